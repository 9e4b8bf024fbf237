// Pick an application permission (app role) from a resource's service principal.
import "server-only";
import type { AppRole } from "./get-service-principal-by-app-id";

/** The enabled app role `value` that applications (not only users) can hold; ids differ per API, so look them up. */
export function findAppRole(appRoles: AppRole[], value: string): AppRole | undefined {
  return appRoles.find((r) => r.value === value && r.allowedMemberTypes.includes("Application") && r.isEnabled);
}
