// The audit chain's hash: SHA-256 over a canonical JSON of an event and its predecessor's hash. Pure; shared by the
// writer (lib/db/audit.ts) and the verifier (lib/audit/chain.ts).
import "server-only";
import crypto from "node:crypto";
import type { JsonValue } from "./json";

/** prevHash of a tenant's first chained event. */
export const GENESIS_HASH = "0".repeat(64);

/** The fields a chained event's hash covers (actorUserId is not: it is cleared when a user is deleted). */
export interface HashedAuditFields {
  prevHash: string;
  id: string;
  at: Date;
  tenantId: string;
  runId: string | null;
  actorUpn: string;
  action: string;
  target: string | null;
  outcome: string;
  detail: JsonValue | null;
}

/** Hex SHA-256 of the event's canonical JSON (fixed field order, object keys sorted at every depth). */
export function auditEventHash(event: HashedAuditFields): string {
  const canonical = canonicalJson([
    event.prevHash,
    event.id,
    event.at.toISOString(),
    event.tenantId,
    event.runId,
    event.actorUpn,
    event.action,
    event.target,
    event.outcome,
    event.detail,
  ]);
  return crypto.createHash("sha256").update(canonical, "utf8").digest("hex");
}

/** JSON text with object keys sorted at every depth, so equal values always give equal text. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] ?? null)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
