// Built-in Azure role definition ids (global, identical in every tenant) and the ABAC condition version.
import "server-only";

/** conditionVersion Azure expects for an ABAC condition on a role assignment (lib/steps/abac.ts writes them). */
export const CONDITION_VERSION = "2.0";

export const BUILTIN_ROLE_IDS = {
  owner: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
  userAccessAdministrator: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
  rbacAdministrator: "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
  reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  logAnalyticsReader: "73c42c96-874c-492b-b04d-ab87d138a893",
  storageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
} as const;

/** The last segment of a role definition id: its GUID. */
export function roleGuid(roleDefinitionId: string): string {
  return (roleDefinitionId.split("/").pop() ?? "").toLowerCase();
}
