import { DurableObject } from "cloudflare:workers";

/** One per tenant: serializes group-membership writes (see the Groups issue). */
export class TenantCoordinator extends DurableObject<Cloudflare.Env> {}
