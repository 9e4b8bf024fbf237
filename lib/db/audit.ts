// Append-only audit trail per customer tenant, hash-chained per tenant.
import "server-only";
import { Prisma } from "./generated/client";
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

/** The tenants of a batch in lock order: fixed, so two batches spanning the same tenants can't deadlock. */
export function auditChainsOf(inputs: readonly { tenantId: string }[]): string[] {
  return [...new Set(inputs.map((i) => i.tenantId))].sort();
}

/**
 * An expression that takes the chain locks of `tenants` (from auditChainsOf), in their order, for the transaction; a
 * caller puts it in a statement it sends anyway and then passes `chainsLocked` to appendAuditEvents.
 */
export function auditChainLocks(tenants: readonly string[]): Prisma.Sql {
  return Prisma.sql`(SELECT count(pg_advisory_xact_lock(hashtext('audit:' || x."t"))) FROM unnest(${tenants}::text[]) AS x("t"))`;
}

/**
 * The chain append inside a caller's transaction, so other writes can commit atomically with their audit events.
 * Three statements: the locks (unless the caller's statement took them), the chains' last hashes with the new ids, the
 * insert. The hashes are read in a statement of their own after the locks: a statement's snapshot is taken when it
 * starts, so one that also waited for a lock could miss the append it waited for and fork the chain.
 */
export async function appendAuditEvents(
  tx: Prisma.TransactionClient,
  inputs: readonly NewAuditEvent[],
  options: { chainsLocked?: boolean } = {},
): Promise<AuditEvent[]> {
  if (inputs.length === 0) return [];
  const tenants = auditChainsOf(inputs);
  if (!options.chainsLocked) await tx.$queryRaw`SELECT ${auditChainLocks(tenants)} AS "locks"`;
  // Ids in ascending order, one clock reading: the batch is one moment, and id order is chain order.
  const [head] = await tx.$queryRaw<{ ids: string[]; at: Date; hashes: string[] }[]>`
    SELECT array(SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))::text
                 FROM generate_series(1, ${inputs.length}::int)) AS "ids",
           date_trunc('milliseconds', clock_timestamp()) AS "at",
           array(SELECT coalesce((SELECT e."hash" FROM "audit_events" e
                                  WHERE e."tenant_id" = x."t" AND e."hash" IS NOT NULL ORDER BY e."id" DESC LIMIT 1), '')
                 FROM unnest(${tenants}::text[]) WITH ORDINALITY AS x("t", "ord") ORDER BY x."ord") AS "hashes"`;
  if (!head || head.ids.length !== inputs.length || head.hashes.length !== tenants.length) {
    throw new Error("audit append: the database returned no ids or chain heads");
  }
  const lastHash = new Map(tenants.map((t, i) => [t, head.hashes[i] || GENESIS_HASH]));
  const ids = head.ids.map(BigInt).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const at = new Date(head.at);
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

/** Largest page listAuditPage reads. */
export const AUDIT_PAGE_MAX = 500;

/** Rows per query of readAuditChain unless the caller says otherwise. */
export const AUDIT_CHUNK_SIZE = 2_000;

/** One page of events, newest first, and the cursor of the page after it (older events), null on the last page. */
export interface AuditPage {
  events: AuditEvent[];
  /** Pass as `before` to read the next older page; the id of this page's oldest event. */
  older: string | null;
}

// Cursors come from URLs: a positive decimal that fits the bigint column, anything else is no cursor.
const CURSOR = /^[1-9][0-9]{0,17}$/;

/** A cursor as the database takes it, or null when `value` isn't one (absent, garbage, out of range). */
export function auditCursor(value: string | null | undefined): bigint | null {
  return value !== null && value !== undefined && CURSOR.test(value) ? BigInt(value) : null;
}

function scopeWhere(scope: AuditScope): Prisma.AuditEventWhereInput {
  return { tenantId: scope.tenantId, ...(scope.runId === undefined ? {} : { runId: scope.runId }) };
}

/**
 * A page of the scope's events newest first: at most `limit` with an id below `before` (the newest when absent), in one
 * query that reads limit + 1 entries of the (tenant_id, id) or (run_id, id) index and then those rows by primary key;
 * the extra entry only says an older page exists.
 */
export async function listAuditPage(scope: AuditScope, options: { limit: number; before?: string | null }): Promise<AuditPage> {
  const limit = Math.max(1, Math.min(Math.floor(options.limit), AUDIT_PAGE_MAX));
  const before = auditCursor(options.before);
  const prisma = await db();
  // The ids come from an index-only scan of the scope's index. Walking the primary key backward with a filter instead
  // (the planner's pick for a tenant holding most rows) reads every newer row of other tenants first when there are
  // many. A run's index has no tenant_id: its ids are picked by run_id alone and a row of another tenant comes back
  // empty (never shown), so the cursor still moves past it.
  const rows = await prisma.$queryRaw<(Omit<AuditRow, "id"> & { id: bigint | null; pageId: bigint })[]>`
    SELECT p."id" AS "pageId", e."id", e."at", e."tenant_id" AS "tenantId", e."actor_user_id" AS "actorUserId",
           e."actor_upn" AS "actorUpn", e."action", e."target", e."outcome", e."detail", e."run_id" AS "runId",
           e."prev_hash" AS "prevHash", e."hash"
    FROM (
      SELECT "id" FROM "audit_events"
      WHERE ${scope.runId === undefined ? Prisma.sql`"tenant_id" = ${scope.tenantId}` : Prisma.sql`"run_id" = ${scope.runId}`}
        ${before === null ? Prisma.empty : Prisma.sql`AND "id" < ${before}`}
      ORDER BY "id" DESC LIMIT ${limit + 1}
    ) p
    LEFT JOIN "audit_events" e ON e."id" = p."id" AND e."tenant_id" = ${scope.tenantId}
    ORDER BY p."id" DESC`;
  const page = rows.slice(0, limit);
  const events = page.flatMap(({ pageId: _, id, ...row }) => (id === null ? [] : [toAuditEvent({ ...row, id })]));
  return { events, older: rows.length > limit ? (page.at(-1)?.pageId.toString() ?? null) : null };
}

/**
 * The scope's events in chain order, oldest first, as chunks of at most `chunkSize`: one keyset query per chunk
 * (id above the last one read), so memory stays at one chunk whatever the size. Ends at the newest event present at
 * the first read: events appended meanwhile belong to the next export, and a busy tenant can't keep it running.
 */
export async function* readAuditChain(
  scope: AuditScope,
  options: { chunkSize?: number } = {},
): AsyncGenerator<AuditEvent[], void, undefined> {
  const take = Math.max(1, Math.min(Math.floor(options.chunkSize ?? AUDIT_CHUNK_SIZE), 10_000));
  const prisma = await db();
  // Only the columns of the scope's index, so the bound is an index-only read (a run's events are its tenant's; the
  // chunks below filter by tenant anyway).
  const bound: Prisma.AuditEventWhereInput = scope.runId === undefined ? { tenantId: scope.tenantId } : { runId: scope.runId };
  const newest = await prisma.auditEvent.findFirst({ where: bound, orderBy: { id: "desc" }, select: { id: true } });
  if (!newest) return;
  let after: bigint | null = null;
  for (;;) {
    const idRange: Prisma.BigIntFilter = after === null ? { lte: newest.id } : { gt: after, lte: newest.id };
    const rows = await prisma.auditEvent.findMany({ where: { ...scopeWhere(scope), id: idRange }, orderBy: { id: "asc" }, take });
    const last = rows.at(-1);
    if (!last) return;
    after = last.id;
    yield rows.map(toAuditEvent);
    if (rows.length < take || last.id === newest.id) return;
  }
}

/** Every event of the scope in chain order, oldest first, in memory: for small scopes (one run's decisions, tests). */
export async function listAuditChain(scope: AuditScope): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for await (const chunk of readAuditChain(scope)) events.push(...chunk);
  return events;
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

/** A run's events with `action` recorded at or after `since`, newest first, at most `limit`: one bounded read by the run's index. */
export async function listRecentRunEvents(scope: Required<AuditScope>, action: string, since: Date, limit = 20): Promise<AuditEvent[]> {
  const prisma = await db();
  const rows = await prisma.auditEvent.findMany({
    where: { tenantId: scope.tenantId, runId: scope.runId, action, at: { gte: since } },
    orderBy: { id: "desc" },
    take: Math.max(1, Math.min(limit, 100)),
  });
  return rows.map(toAuditEvent);
}
