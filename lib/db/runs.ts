// Onboarding runs: the admin's choices, the confirmed plan and the ordered steps, resumable from the run's link.
//
// The run id is the link's secret part (unguessable), and every read is scoped by tenant as well, so a link
// opened by someone of another tenant finds nothing. Writes take only the run id: callers first load the run
// with getRunForTenant for the signed-in tenant, then act on it.
import "server-only";
import crypto from "node:crypto";
import { z } from "zod";
import { log } from "@/lib/log";
import { Prisma } from "./generated/client";
import { db } from "./client";
import { jsonParam, type JsonValue } from "./json";
import { toStepRun, type StepRun } from "./step-runs";

export const RUN_STATUSES = ["draft", "planned", "running", "completed", "failed", "cancelled", "offboarding", "offboarded"] as const;
/** Where a run stands; lib/onboarding/lifecycle.ts has the transitions and which action each status allows. */
export type RunStatus = (typeof RUN_STATUSES)[number];

/** A run without its steps (lists). */
export interface OnboardingRun {
  /** Unguessable (144 random bits, base64url): the run's link carries it. */
  id: string;
  tenantId: string;
  /** null once the creating user was deleted; createdByUpn stays. */
  createdByUserId: string | null;
  createdByUpn: string;
  status: RunStatus;
  config: JsonValue;
  plan: JsonValue | null;
  planConfirmedAt: Date | null;
  planConfirmedByUpn: string | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A run with its steps in execution order. */
export interface OnboardingRunWithSteps extends OnboardingRun {
  steps: StepRun[];
}

/** What createRun stores: the admin's choices and the step ids in execution order. */
export interface NewRun {
  tenantId: string;
  createdByUserId: string | null;
  createdByUpn: string;
  config: JsonValue;
  steps: readonly string[];
}

// 18 bytes = 144 bits, exactly 24 base64url characters (no padding bits).
const RUN_ID_BYTES = 18;

type RunRow = Omit<OnboardingRun, "config" | "plan"> & { config: Prisma.JsonValue; plan: Prisma.JsonValue };

function toRun(row: RunRow): OnboardingRun {
  return {
    id: row.id,
    tenantId: row.tenantId,
    createdByUserId: row.createdByUserId,
    createdByUpn: row.createdByUpn,
    status: row.status,
    config: row.config as JsonValue,
    plan: row.plan as JsonValue | null,
    planConfirmedAt: row.planConfirmedAt,
    planConfirmedByUpn: row.planConfirmedByUpn,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const stepsInOrder = { steps: { orderBy: { position: "asc" } } } as const;

/** Creates a draft run and its pending steps (positions 0…n-1 in the given order) in one transaction. */
export async function createRun(input: NewRun): Promise<OnboardingRunWithSteps> {
  if (new Set(input.steps).size !== input.steps.length) throw new TypeError("createRun: duplicate step ids");
  const prisma = await db();
  // A nested create is one transaction: the run never exists without its steps.
  const row = await prisma.onboardingRun.create({
    data: {
      id: crypto.randomBytes(RUN_ID_BYTES).toString("base64url"),
      tenantId: input.tenantId,
      createdByUserId: input.createdByUserId,
      createdByUpn: input.createdByUpn,
      config: input.config as Prisma.InputJsonValue,
      steps: { create: input.steps.map((stepId, position) => ({ stepId, position })) },
    },
    include: stepsInOrder,
  });
  return { ...toRun(row), steps: row.steps.map(toStepRun) };
}

/**
 * The run with its steps, or null when it does not exist or belongs to another tenant. Both cases are the same
 * query and the same answer, so a caller (or someone probing links) cannot tell them apart.
 */
export async function getRunForTenant(runId: string, tenantId: string): Promise<OnboardingRunWithSteps | null> {
  const prisma = await db();
  const row = await prisma.onboardingRun.findFirst({ where: { id: runId, tenantId }, include: stepsInOrder });
  return row && { ...toRun(row), steps: row.steps.map(toStepRun) };
}

/** A running step's progress as the run page shows it between re-renders. */
export interface LiveStepProgress {
  done: number;
  total: number;
  label: string;
}

/** What the run page polls: a fingerprint of what needs a re-render, and the running steps' progress (shown in place). */
export interface RunChange {
  stamp: string;
  progress: Record<string, LiveStepProgress>;
}

const progressSchema = z.object({ done: z.number(), total: z.number(), label: z.string() });
const changeRowSchema = z.object({ material: z.string(), progress: z.record(z.string(), progressSchema).nullable() });

/**
 * The run page's change fingerprint (run and step status, errors, attempts, lapsed leases; the newest audit event only
 * while no step works) and the running steps' progress, or null when the run isn't the tenant's. Progress and the
 * audit events of a working step are left out of the stamp: the page updates progress in place and shows the new
 * events when the step ends, instead of re-rendering for every write.
 */
export async function runChangeStamp(runId: string, tenantId: string): Promise<RunChange | null> {
  const prisma = await db();
  // One round trip: the run by primary key (tenant checked on it), its steps by the (run_id, step_id) unique index, the
  // run's newest event by one backward step of the (run_id, id) index (EXPLAIN: docs/BENCHMARKS.md).
  // A lapsed lease changes what the page shows (Interrupted, Resume) without any row changing: it is part of the stamp.
  const rows = await prisma.$queryRaw<unknown[]>`
    WITH steps AS (
      SELECT s.*, s."lease_expires_at" IS NOT NULL AND s."lease_expires_at" <= now() AS "lapsed"
      FROM "step_runs" s WHERE s."run_id" = ${runId})
    SELECT json_build_array(
      r."status", r."updated_at",
      (SELECT json_agg(json_build_array(s."step_id", s."status", s."error", s."attempts", s."lapsed") ORDER BY s."step_id") FROM steps s),
      CASE WHEN EXISTS (SELECT 1 FROM steps s WHERE s."status" = 'running' AND NOT s."lapsed") THEN NULL
           ELSE (SELECT a."id" FROM "audit_events" a WHERE a."run_id" = r."id" ORDER BY a."run_id" DESC, a."id" DESC LIMIT 1) END
    )::text AS "material",
    (SELECT json_object_agg(s."step_id", s."progress") FROM steps s WHERE s."status" = 'running' AND s."progress" IS NOT NULL) AS "progress"
    FROM "onboarding_runs" r WHERE r."id" = ${runId} AND r."tenant_id" = ${tenantId}`;
  const row = changeRowSchema.safeParse(rows[0]);
  if (!row.success) return null;
  return {
    stamp: crypto.createHash("sha256").update(row.data.material).digest("base64url").slice(0, 22),
    progress: row.data.progress ?? {},
  };
}

/** A tenant's runs, newest first, without steps. */
export async function listRunsForTenant(tenantId: string, options: { limit: number }): Promise<OnboardingRun[]> {
  const prisma = await db();
  const rows = await prisma.onboardingRun.findMany({
    where: { tenantId },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: Math.max(0, Math.min(options.limit, 1000)),
  });
  return rows.map(toRun);
}

/**
 * Stores the computed plan and moves the run to planned; allowed from draft or planned (re-plan). A new plan
 * drops an earlier confirmation: the admin confirms what they saw. Returns false when the run is past planning.
 */
export async function setRunPlan(runId: string, plan: JsonValue): Promise<boolean> {
  const prisma = await db();
  const count = await prisma.$executeRaw`
    UPDATE "onboarding_runs" SET
      "plan" = ${jsonParam(plan)}::jsonb, "status" = 'planned',
      "plan_confirmed_at" = NULL, "plan_confirmed_by_upn" = NULL, "updated_at" = now()
    WHERE "id" = ${runId} AND "status" IN ('draft', 'planned')`;
  return changed(count, runId, "planned");
}

/**
 * Records that `upn` confirmed the plan; only for a planned run not yet confirmed, so of two admins confirming
 * at once exactly one gets true. With `plan`, confirms only if the stored plan still equals it (JSON equality),
 * so a re-plan by someone else in between is not confirmed blindly. The status stays planned: start the run
 * with setRunStatus(runId, "running", { from: ["planned"] }).
 */
export async function confirmRunPlan(runId: string, upn: string, options: { plan?: JsonValue } = {}): Promise<boolean> {
  const prisma = await db();
  const expected = options.plan === undefined ? Prisma.sql`` : Prisma.sql`AND "plan" = ${jsonParam(options.plan)}::jsonb`;
  const count = await prisma.$executeRaw`
    UPDATE "onboarding_runs" SET "plan_confirmed_at" = now(), "plan_confirmed_by_upn" = ${upn}, "updated_at" = now()
    WHERE "id" = ${runId} AND "status" = 'planned' AND "plan" IS NOT NULL AND "plan_confirmed_at" IS NULL ${expected}`;
  return count === 1;
}

/**
 * Sets the run's status; with `from`, only if the current status is one of them (compare-and-set), so concurrent
 * transitions (cancel vs. complete) cannot both succeed. running requires a confirmed plan. Returns whether it changed.
 */
export async function setRunStatus(runId: string, status: RunStatus, options: { from?: readonly RunStatus[] } = {}): Promise<boolean> {
  if (!(RUN_STATUSES as readonly string[]).includes(status)) throw new TypeError(`unknown run status ${JSON.stringify(status)}`);
  if (options.from && options.from.length === 0) return false;
  const prisma = await db();
  const from = options.from ? Prisma.sql`AND "status"::text IN (${Prisma.join(options.from)})` : Prisma.sql``;
  const confirmed = status === "running" ? Prisma.sql`AND "plan_confirmed_at" IS NOT NULL` : Prisma.sql``;
  const count = await prisma.$executeRaw`
    UPDATE "onboarding_runs" SET "status" = ${status}::"RunStatus", "updated_at" = now()
    WHERE "id" = ${runId} ${from} ${confirmed}`;
  return changed(count, runId, status);
}

/**
 * Moves a stopped run to offboarding, unless provisioning holds it: a step or a rotation with a live lease. One
 * conditional UPDATE, so a Retry or a rotation racing with it can't both go ahead (they check the run's status too).
 */
export async function beginRunOffboarding(runId: string, from: readonly RunStatus[]): Promise<boolean> {
  if (from.length === 0) return false;
  const prisma = await db();
  const count = await prisma.$executeRaw`
    UPDATE "onboarding_runs" SET "status" = 'offboarding'::"RunStatus", "updated_at" = now()
    WHERE "id" = ${runId} AND "status"::text IN (${Prisma.join(from)})
      AND NOT EXISTS (SELECT 1 FROM "step_runs" s WHERE s."run_id" = ${runId} AND s."lease_owner" IS NOT NULL AND s."lease_expires_at" > now())
      AND NOT EXISTS (SELECT 1 FROM "credential_rotations" c WHERE c."run_id" = ${runId} AND c."status" = 'running' AND c."lease_expires_at" > now())`;
  return changed(count, runId, "offboarding");
}

// Every change of a run's status passes here: one log line each, whoever made it (an admin's action or the engine).
function changed(count: number, runId: string, status: RunStatus): boolean {
  if (count !== 1) return false;
  log().info({ event: "run.status", runId, status }, `run ${runId} is ${status}`);
  return true;
}

/**
 * Replaces the configuration of a run whose plan isn't confirmed (draft or planned) and drops its plan (back to draft,
 * to be planned again), only while it belongs to `tenantId` and still has `expectedConfig`: a change computed from a
 * stale configuration, or racing another admin's confirm or change, updates nothing and returns false.
 */
export async function replaceUnconfirmedRunConfig(
  runId: string,
  tenantId: string,
  expectedConfig: JsonValue,
  config: JsonValue,
): Promise<boolean> {
  const prisma = await db();
  const count = await prisma.$executeRaw`
    UPDATE "onboarding_runs" SET
      "config" = ${jsonParam(config)}::jsonb, "plan" = NULL, "status" = 'draft',
      "plan_confirmed_at" = NULL, "plan_confirmed_by_upn" = NULL, "updated_at" = now()
    WHERE "id" = ${runId} AND "tenant_id" = ${tenantId} AND "status" IN ('draft', 'planned')
      AND "config" = ${jsonParam(expectedConfig)}::jsonb`;
  return count === 1;
}
