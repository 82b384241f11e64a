/**
 * The setup result's role list (issue 12): the role and entitlement ids the tenant's IT admin
 * configures in the IdP (Okta: userType values or entitlement discovery; Entra: app role values).
 */
import type { FC } from "hono/jsx";
import type { Provider } from "../storage/tenants";

export interface RoleIdsProps {
  provider: Provider;
  roles: { id: string; displayName: string }[];
  entitlements: { id: string; displayName: string }[];
}

/** The role ids to configure in the IdP: Okta's userType values or entitlements, Entra's app role values. */
export const RoleIds: FC<RoleIdsProps> = ({ provider, roles, entitlements }) =>
  roles.length === 0 && entitlements.length === 0 ? null : (
    <>
      <h2>Roles</h2>
      <p class="hint">
        {provider === "entra"
          ? "In App registrations → your app → App roles, create one app role per row with Value set to the role id; assign the roles on the Users and groups page, and map AppRoleAssignmentsComplex([appRoleAssignments]) to roles."
          : provider === "okta"
            ? "Send one of these role ids in the userType attribute (a custom attribute in the Okta app profile), or enable entitlement management: Okta discovers the roles at /Roles."
            : "Send these ids in roles[].value (or userType) and entitlements[].value."}
      </p>
      <table>
        <thead>
          <tr>
            <th>Kind</th>
            <th>Id</th>
            <th>Name</th>
          </tr>
        </thead>
        <tbody>
          {roles.map((r) => (
            <tr>
              <td>role</td>
              <td>
                <code>{r.id}</code>
              </td>
              <td>{r.displayName}</td>
            </tr>
          ))}
          {entitlements.map((e) => (
            <tr>
              <td>entitlement</td>
              <td>
                <code>{e.id}</code>
              </td>
              <td>{e.displayName}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
