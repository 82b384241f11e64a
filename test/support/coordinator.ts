/**
 * Records the D1 work of a tenant's Durable Object. Every group write runs in the tenant's
 * TenantCoordinator on the tenant's shard binding in the DO's own `env`, which a Worker-side
 * proxy cannot see: `runInDurableObject` hands us the live instance, and its `env` is swapped
 * for a counting copy of that same env (every D1 binding wrapped; `this.env` is read as each
 * write arrives, see TenantCoordinator.tenantDb). Requests sent after the swap reach the same instance, so their
 * statements are recorded. The swap is undone when the test finishes.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { onTestFinished } from "vitest";
import type { TenantCoordinator } from "../../src/durable/tenant-coordinator";
import { type CountingEnv, countingEnv } from "./counting-env";

export async function recordCoordinator(tenantId: string): Promise<CountingEnv> {
  const stub = env.TENANT_COORDINATOR.getByName(tenantId);
  const { counting, original } = await runInDurableObject(stub, (instance: TenantCoordinator) => {
    const own = Reflect.get(instance, "env") as Cloudflare.Env;
    const wrapped = countingEnv(own);
    if (!Reflect.set(instance, "env", wrapped.env) || Reflect.get(instance, "env") !== wrapped.env) {
      throw new Error("could not install the counting env on the TenantCoordinator instance");
    }
    return { counting: wrapped, original: own };
  });
  onTestFinished(async () => {
    await runInDurableObject(stub, (instance: TenantCoordinator) => {
      Reflect.set(instance, "env", original);
    });
  });
  return counting;
}

export interface HeldQueue {
  /** How many members-only PATCHes are gathered at the tail of the queue, not started. */
  gathered(): Promise<number>;
  /** Lets the queue run on. */
  release(): void;
}

/**
 * Makes the tenant's TenantCoordinator busy until `release()`, as a slow D1 write would:
 * writes sent meanwhile wait in its queue, so a test can line them up deterministically.
 */
export async function holdQueue(tenantId: string): Promise<HeldQueue> {
  const stub = env.TENANT_COORDINATOR.getByName(tenantId);
  let release = (): void => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  await runInDurableObject(stub, (instance: TenantCoordinator) => {
    const queue = Reflect.get(instance, "queue") as Promise<unknown>;
    Reflect.set(instance, "queue", queue.then(() => gate));
  });
  onTestFinished(() => release());
  return {
    gathered: () =>
      runInDurableObject(stub, (instance: TenantCoordinator) => (Reflect.get(instance, "gathering") as { entries: unknown[] } | undefined)?.entries.length ?? 0),
    release: () => release(),
  };
}
