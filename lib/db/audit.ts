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
  const [event] = await recordAuditEvents([input]);
  return event as AuditEvent;
}

/** Appends several events in one transaction (one chain lock per tenant), in input order; returns them in that order. */
export async function recordAuditEvents(inputs: readonly NewAuditEvent[]): Promise<AuditEvent[]> {
  if (inputs.length === 0) return [];
  const prisma = await db();
  return prisma.$transaction((tx) => appendAuditEvents(tx, inputs), { maxWait: 30_000, timeout: 30_000 });
}

/** The chain append inside a caller's transaction, so other writes can commit atomically with their audit events. */
export async function appendAuditEvents(tx: Prisma.TransactionClient, inputs: readonly NewAuditEvent[]): Promise<AuditEvent[]> {
  if (inputs.length === 0) return [];
  // Locks in a fixed order, so two batches spanning the same tenants can't deadlock.
  const tenants = [...new Set(inputs.map((i) => i.tenantId))].sort();
  const lastHash = new Map<string, string>();
  for (const tenantId of tenants) {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${"audit:" + tenantId}))`;
    const [last] = await tx.$queryRaw<{ hash: string }[]>`
      SELECT "hash" FROM "audit_events" WHERE "tenant_id" = ${tenantId} AND "hash" IS NOT NULL
      ORDER BY "id" DESC LIMIT 1`;
    lastHash.set(tenantId, last?.hash ?? GENESIS_HASH);
  }
  // Ids in ascending order, one clock reading: the batch is one moment, and id order is chain order.
  const next = await tx.$queryRaw<{ id: string; at: Date }[]>`
    SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))::text AS "id",
           date_trunc('milliseconds', clock_timestamp()) AS "at"
    FROM generate_series(1, ${inputs.length}::int)`;
  const ids = next.map((n) => BigInt(n.id)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const at = new Date(next[0]?.at ?? Date.now());
  const rows = inputs.map((input, i) => {
    // A real JSON round-trip: what is hashed is exactly what jsonb gives back (no undefined fields, no class instances).
    const detail = input.detail === undefined || input.detail === null ? null : (JSON.parse(JSON.stringify(input.detail)) as JsonValue);
    const fields = {
      prevHash: lastHash.get(input.tenantId) ?? GENESIS_HASH,
      id: (ids[i] as bigint).toString(),
      at,
      tenantId: input.tenantId,
      runId: input.runId ?? null,
      actorUpn: input.actorUpn,
      action: input.action,
      target: input.target ?? null,
      outcome: input.outcome,
      detail,
    };
    const hash = auditEventHash(fields);
    lastHash.set(input.tenantId, hash);
    return { ...fields, actorUserId: input.actorUserId ?? null, hash };
  });
  await tx.auditEvent.createMany({
    data: rows.map((r) => ({ ...r, id: BigInt(r.id), detail: nullableJson(r.detail) })),
  });
  return rows.map((r) => toAuditEvent({ ...r, id: BigInt(r.id), detail: r.detail as Prisma.JsonValue }));
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
