// Cross-tenant reads for the vendor view: every customer's runs. Callers must have checked isVendorStaff first.
import "server-only";
import { Prisma } from "./generated/client";
import { listAuditPage, type AuditEvent } from "./audit";
import { db } from "./client";
import { listOperations, type Operation } from "./operations";
import type { OnboardingRunWithSteps } from "./runs";
import { toStepRun } from "./step-runs";
import { tenantNames } from "./tenants";
import type { JsonValue } from "./json";

/** The audit action of a vendor engineer opening a run; not customer activity. */
export const VENDOR_VIEW_ACTION = "vendor.run_viewed";

/** Someone's last recorded act on a run. */
export interface LastAct {
  actorUpn: string;
  at: Date;
}

/** A run of any tenant with what the vendor list needs. */
export interface CrossTenantRun {
  run: OnboardingRunWithSteps;
  tenantName: string | null;
  /** Latest write-ahead operation (its actor held the step's lease). */
  lastOperation: LastAct | null;
  /** Latest audit event of the run other than vendor views. */
  lastDecision: (LastAct & { action: string }) | null;
}

/** A run of any tenant with its operation log and one page of its audit events, for the read-only detail. */
export interface CrossTenantRunDetail extends CrossTenantRun {
  operations: Operation[];
  /** Newest first: the page before the requested cursor. */
  auditEvents: AuditEvent[];
  /** Cursor of the next older page of audit events; null on the last. */
  olderAuditEvents: string | null;
}

type RunRow = Prisma.OnboardingRunGetPayload<{ include: { steps: true } }>;

function toRunWithSteps(row: RunRow): OnboardingRunWithSteps {
  const { steps, config, plan, ...rest } = row;
  return {
    ...rest,
    config: config as JsonValue,
    plan: plan as JsonValue | null,
    steps: steps.sort((a, b) => a.position - b.position).map(toStepRun),
  };
}

async function lastActs(runIds: string[]): Promise<{ ops: Map<string, LastAct>; decisions: Map<string, LastAct & { action: string }> }> {
  if (runIds.length === 0) return { ops: new Map(), decisions: new Map() };
  const prisma = await db();
  const ids = Prisma.join(runIds);
  const [ops, decisions] = await Promise.all([
    prisma.$queryRaw<{ run_id: string; actor_upn: string; at: Date }[]>`
      SELECT DISTINCT ON ("run_id") "run_id", "actor_upn", COALESCE("completed_at", "started_at") AS "at"
      FROM "operations" WHERE "run_id" IN (${ids}) ORDER BY "run_id", "id" DESC`,
    prisma.$queryRaw<{ run_id: string; actor_upn: string; at: Date; action: string }[]>`
      SELECT DISTINCT ON ("run_id") "run_id", "actor_upn", "at", "action"
      FROM "audit_events" WHERE "run_id" IN (${ids}) AND "action" <> ${VENDOR_VIEW_ACTION} ORDER BY "run_id", "id" DESC`,
  ]);
  return {
    ops: new Map(ops.map((o) => [o.run_id, { actorUpn: o.actor_upn, at: new Date(o.at) }])),
    decisions: new Map(decisions.map((d) => [d.run_id, { actorUpn: d.actor_upn, at: new Date(d.at), action: d.action }])),
  };
}

/** Runs of every tenant, most recently updated first, with tenant names and last acts; drafts excluded. */
export async function listRunsAcrossTenants(options: { limit: number }): Promise<CrossTenantRun[]> {
  const prisma = await db();
  const rows = await prisma.onboardingRun.findMany({
    where: { status: { not: "draft" } },
    include: { steps: true },
    orderBy: [{ updatedAt: "desc" }, { id: "desc" }],
    take: Math.max(0, Math.min(options.limit, 500)),
  });
  const runs = rows.map(toRunWithSteps);
  const [names, acts] = await Promise.all([tenantNames(runs.map((r) => r.tenantId)), lastActs(runs.map((r) => r.id))]);
  return runs.map((run) => ({
    run,
    tenantName: names.get(run.tenantId)?.displayName ?? null,
    lastOperation: acts.ops.get(run.id) ?? null,
    lastDecision: acts.decisions.get(run.id) ?? null,
  }));
}

/**
 * One run of any tenant with its operation log and a page of its audit events (newest first, `audit.limit` before the
 * cursor `audit.before`); null when it doesn't exist.
 */
export async function getRunAcrossTenants(
  runId: string,
  audit: { limit: number; before?: string | null } = { limit: 50 },
): Promise<CrossTenantRunDetail | null> {
  const prisma = await db();
  const row = await prisma.onboardingRun.findUnique({ where: { id: runId }, include: { steps: true } });
  if (!row) return null;
  const run = toRunWithSteps(row);
  const [names, acts, operations, auditPage] = await Promise.all([
    tenantNames([run.tenantId]),
    lastActs([run.id]),
    listOperations(run.id),
    listAuditPage({ tenantId: run.tenantId, runId: run.id }, audit),
  ]);
  return {
    run,
    tenantName: names.get(run.tenantId)?.displayName ?? null,
    lastOperation: acts.ops.get(run.id) ?? null,
    lastDecision: acts.decisions.get(run.id) ?? null,
    operations,
    auditEvents: auditPage.events,
    olderAuditEvents: auditPage.older,
  };
}
