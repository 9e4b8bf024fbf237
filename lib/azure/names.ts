// Deterministic names for Azure objects, so a retried or resumed step addresses the same object.
import "server-only";
import { createHash } from "node:crypto";

/** This project's UUIDv5 namespace (fixed forever: changing it renames every role and assignment). */
export const PROJECT_NAMESPACE = "5f0c7d2e-3b8a-4c61-9e4d-7a2b1c0d9e8f";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** RFC 4122 §4.3 name-based UUID, version 5 (SHA-1). */
export function uuidV5(name: string, namespace: string): string {
  if (!UUID.test(namespace)) throw new Error(`Not a UUID namespace: ${namespace}`);
  const hash = createHash("sha1")
    .update(Buffer.from(namespace.replace(/-/g, ""), "hex"))
    .update(Buffer.from(name, "utf8"))
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Role assignment name from what makes it unique (like Bicep's guid(scope, principalId, roleDefinitionId)). */
export function roleAssignmentName(scope: string, principalId: string, roleDefinitionGuid: string): string {
  // ARM compares scopes and ids case-insensitively; normalise so "/Subscriptions/X" and "/subscriptions/x" agree.
  const key = [scope.replace(/\/+$/, ""), principalId, roleDefinitionGuid].map((s) => s.toLowerCase()).join("|");
  return uuidV5(key, PROJECT_NAMESPACE);
}

/** The custom role's id in one tenant: same tenant and role key, same id, so re-runs update instead of duplicating. */
export function customRoleId(tenantId: string, roleKey: string): string {
  return uuidV5(`custom-role|${tenantId.toLowerCase()}|${roleKey}`, PROJECT_NAMESPACE);
}
