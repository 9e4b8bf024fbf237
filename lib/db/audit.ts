// Append-only audit trail per customer tenant, hash-chained per tenant.
import { type Prisma } from "./generated/client";
import { auditEventHash, GENESIS_HASH } from "./audit-hash";
import { db } from "./client";
import { nullableJson, type JsonValue } from "./json";

export type { JsonValue } from "./json";

/** How an audited action ended. */
export type AuditOutcome = "success" | "failure" | "denied";

/** One audit record. id is a decimal string of a database sequence. */
export interface AuditEvent {
  id: string;
  at: Date;
  tenantId: string;
  actorUserId: string | null;
  actorUpn: string;
  /** e.g. "auth.sign_in", "auth.sign_out". */
  action: string;
  target: string | null;
  outcome: AuditOutcome;
  detail: JsonValue | null;
  /** The onboarding run the event belongs to, if any. */
  runId: string | null;
  /** Hash of the tenant's previous event; null only on events recorded before the chain existed. */
  prevHash: string | null;
  /** Hex SHA-256 of this event (lib/db/audit-hash.ts); null only on events recorded before the chain existed. */
  hash: string | null;
}

/** What recordAuditEvent stores; `at` and `id` come from the database. */
export interface NewAuditEvent {
  tenantId: string;
  actorUserId?: string | null;
  actorUpn: string;
  action: string;
  target?: string | null;
  outcome: AuditOutcome;
  detail?: JsonValue;
  /** The onboarding run the event belongs to. */
  runId?: string | null;
}

type AuditRow = Omit<AuditEvent, "id" | "detail"> & { id: bigint; detail: Prisma.JsonValue };

function toAuditEvent(row: AuditRow): AuditEvent {
  return { ...row, id: row.id.toString(), detail: row.detail as JsonValue | null };
}

/**
 * Appends an audit event to its tenant's hash chain (timestamped by the database clock). Appends of one tenant are
 * serialized by a transaction-scoped advisory lock, and the previous hash is read under it, so the chain never forks.
 */
export async function recordAuditEvent(input: NewAuditEvent): Promise<AuditEvent> {
  const prisma = await db();
  // A real JSON round-trip: what is hashed is exactly what jsonb gives back (no undefined fields, no class instances).
  const detail = input.detail === undefined || input.detail === null ? null : (JSON.parse(JSON.stringify(input.detail)) as JsonValue);
  const row = await prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${"audit:" + input.tenantId}))`;
      const [last] = await tx.$queryRaw<{ hash: string }[]>`
        SELECT "hash" FROM "audit_events" WHERE "tenant_id" = ${input.tenantId} AND "hash" IS NOT NULL
        ORDER BY "id" DESC LIMIT 1`;
      const [next] = await tx.$queryRaw<[{ id: string; at: Date }]>`
        SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))::text AS "id",
               date_trunc('milliseconds', clock_timestamp()) AS "at"`;
      const fields = {
        prevHash: last?.hash ?? GENESIS_HASH,
        id: next.id,
        at: new Date(next.at),
        tenantId: input.tenantId,
        runId: input.runId ?? null,
        actorUpn: input.actorUpn,
        action: input.action,
        target: input.target ?? null,
        outcome: input.outcome,
        detail,
      };
      return tx.auditEvent.create({
        data: {
          ...fields,
          id: BigInt(fields.id),
          actorUserId: input.actorUserId ?? null,
          detail: nullableJson(detail),
          hash: auditEventHash(fields),
        },
      });
    },
    { maxWait: 30_000, timeout: 30_000 },
  );
  return toAuditEvent(row);
}

/** Which events an export or the run page covers: a whole tenant, or one run of it. */
export interface AuditScope {
  tenantId: string;
  runId?: string;
}

/** Events of a tenant (or of one of its runs) in chain order, oldest first; at most `limit` (default 100 000). */
export async function listAuditChain(scope: AuditScope, options: { limit?: number } = {}): Promise<AuditEvent[]> {
  const prisma = await db();
  const rows = await prisma.auditEvent.findMany({
    where: { tenantId: scope.tenantId, ...(scope.runId === undefined ? {} : { runId: scope.runId }) },
    orderBy: { id: "asc" },
    take: Math.max(0, Math.min(options.limit ?? 100_000, 100_000)),
  });
  return rows.map(toAuditEvent);
}

/** A tenant's audit events, newest first. */
export async function listAuditEvents(tenantId: string, options: { limit: number }): Promise<AuditEvent[]> {
  const prisma = await db();
  const rows = await prisma.auditEvent.findMany({
    where: { tenantId },
    // id breaks ties between events recorded in the same millisecond.
    orderBy: [{ at: "desc" }, { id: "desc" }],
    take: Math.max(0, Math.min(options.limit, 1000)),
  });
  return rows.map(toAuditEvent);
}
