// Append-only audit trail per customer tenant.
import { type Prisma } from "./generated/client";
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
}

type AuditRow = Omit<AuditEvent, "id" | "detail"> & { id: bigint; detail: Prisma.JsonValue };

function toAuditEvent(row: AuditRow): AuditEvent {
  return { ...row, id: row.id.toString(), detail: row.detail as JsonValue | null };
}

/** Appends an audit event (timestamped by the database clock). */
export async function recordAuditEvent(input: NewAuditEvent): Promise<AuditEvent> {
  const prisma = await db();
  const row = await prisma.auditEvent.create({
    data: {
      tenantId: input.tenantId,
      actorUserId: input.actorUserId ?? null,
      actorUpn: input.actorUpn,
      action: input.action,
      target: input.target ?? null,
      outcome: input.outcome,
      detail: nullableJson(input.detail),
    },
  });
  return toAuditEvent(row);
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
