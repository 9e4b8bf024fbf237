// The vendor view's read model: every customer's runs, shaped so no secret, token or raw Azure payload can reach a page.
import "server-only";
import { z } from "zod";
import { AUDIT_PAGE_SIZE } from "@/lib/audit/access";
import { recordAuditEvent } from "@/lib/db/audit";
import type { SessionWithUser } from "@/lib/db/sessions";
import type { StepRun } from "@/lib/db/step-runs";
import {
  getRunAcrossTenants,
  listRunsAcrossTenants,
  VENDOR_VIEW_ACTION,
  type CrossTenantRun,
  type CrossTenantRunDetail,
} from "@/lib/db/vendor-runs";
import { runIdSchema } from "@/lib/onboarding/schemas";
import { clustersNeedingAttention } from "@/lib/onboarding/step-summary";
import { maskId, maskText } from "@/lib/presenter";
import { runConfigSchema } from "@/lib/steps/config";
import { heldBackBy, stepById, STEPS, type StepId } from "@/lib/steps/registry";
import { isVendorStaff } from "./access";

export type VendorStepStatus = "pending" | "running" | "done" | "attention" | "failed" | "needs_admin" | "interrupted" | "held_back";

/** A step as the vendor sees it: status and our mapped error, nothing the step created. */
export interface VendorStep {
  stepId: string;
  title: string;
  status: VendorStepStatus;
  /** The mapped error code and the user-facing message we showed the customer. */
  error: { code: string; message: string } | null;
  progress: string | null;
  attempts: number;
  /** Done with exceptions: each cluster the step could not onboard, why and what the customer does (no ids). */
  attention: { subject: string; reason: string; action: string }[];
  /** Held back: the titles of the failed steps it waits for. */
  waitsFor: string[];
}

/** One row of the vendor's list. */
export interface VendorRunSummary {
  runId: string;
  /** The customer's tenant name, or its (masked in presenter mode) id when no sign-in recorded the name yet. */
  tenantLabel: string;
  tenantId: string;
  status: string;
  steps: VendorStep[];
  clusterCount: number;
  /** Clusters a step could not onboard (the run completed with exceptions). */
  clustersNeedingAttention: number;
  lastActivityAt: Date;
  /** Who is acting (an execution of theirs holds a lease right now) or acted last. */
  actor: { upn: string; now: boolean };
}

/** The read-only detail: the summary plus the clusters, the write-ahead log and the run's audit events. */
export interface VendorRunDetail extends VendorRunSummary {
  createdAt: Date;
  createdByUpn: string;
  planConfirmedByUpn: string | null;
  clusters: { name: string; location: string }[];
  storageAccounts: string[];
  operations: {
    id: string;
    at: Date;
    step: string;
    kind: string;
    target: string;
    status: string;
    error: { code: string; message: string } | null;
    requestId: string | null;
    actorUpn: string;
  }[];
  /** One page of the run's audit events, newest first. */
  auditEvents: { id: string; at: Date; actorUpn: string; action: string; outcome: string }[];
  /** Cursor of the next older page; null on the last. */
  olderAuditEvents: string | null;
}

export interface ShapeOptions {
  presenter: boolean;
  now: Date;
}

const MAX_MESSAGE = 400;
const GENERIC = "The step stopped with an error the portal could not describe safely; the customer's run page has the details.";
// A JWT, a bearer header, or a storage key / client secret lookalike: never shown, even if one slipped into a message.
const SECRETISH = /(eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*|Bearer\s+\S+|[A-Za-z0-9+/]{60,}={0,2}|[\w~.-]{3}\d?Q~[\w~.-]{20,})/g;

const storedErrorSchema = z.object({ code: z.string().regex(/^[a-z][a-z0-9_]{0,47}$/), message: z.string() });

/** Our mapped error code and message, never anything else of a stored error; raw Azure payloads become a generic line. */
export function safeError(raw: unknown, presenter: boolean): { code: string; message: string } | null {
  if (raw === null || raw === undefined) return null;
  const parsed = storedErrorSchema.safeParse(raw);
  if (!parsed.success) return { code: "unknown", message: GENERIC };
  return { code: parsed.data.code, message: safeText(parsed.data.message, presenter) };
}

/** A stored message line for display: raw JSON/HTML replaced, secrets redacted, length capped, ids masked when presenting. */
export function safeText(message: string, presenter: boolean): string {
  const trimmed = message.trim();
  if (/^[[{<]/.test(trimmed) || /"error"\s*:|"code"\s*:|<\/?html/i.test(trimmed)) return GENERIC;
  const clean = trimmed.replace(SECRETISH, "[redacted]");
  const capped = clean.length > MAX_MESSAGE ? `${clean.slice(0, MAX_MESSAGE - 1)}…` : clean;
  return presenter ? maskText(capped) : capped;
}

/**
 * The displayed status, as the customer's stepper shows it: a running step whose lease lapsed is interrupted, a done one
 * with attention is done with exceptions, a pending one waiting on a failed step (given the run's `steps`) is held back.
 */
export function vendorStepStatus(step: StepRun, now: Date, steps: readonly StepRun[] = []): VendorStepStatus {
  if (step.status === "done" && step.attention?.length) return "attention";
  if (step.status === "running" && step.leaseExpiresAt && step.leaseExpiresAt < now) return "interrupted";
  if (step.status === "pending" && step.error?.code === "interrupted") return "interrupted";
  if (step.status === "pending" && heldBackBy(step.stepId as StepId, steps).length) return "held_back";
  return step.status;
}

function shapeSteps(steps: StepRun[], { presenter, now }: ShapeOptions): VendorStep[] {
  return STEPS.map((meta) => {
    const step = steps.find((s) => s.stepId === meta.id);
    const status = step ? vendorStepStatus(step, now, steps) : "pending";
    return {
      stepId: meta.id,
      title: meta.title,
      status,
      error: step && step.status !== "done" ? safeError(step.error, presenter) : null,
      progress: step?.status === "running" && step.progress ? safeText(step.progress.label, presenter) : null,
      attempts: step?.attempts ?? 0,
      attention:
        step?.status === "done"
          ? (step.attention ?? []).map((a) => ({
              subject: safeText(a.subject, presenter),
              reason: safeText(a.reason, presenter),
              action: safeText(a.action, presenter),
            }))
          : [],
      waitsFor: status === "held_back" ? heldBackBy(meta.id, steps).map((id) => stepById(id).title) : [],
    };
  });
}

/** A list row from a cross-tenant record; pure. */
export function shapeRun(record: CrossTenantRun, options: ShapeOptions): VendorRunSummary {
  const { run } = record;
  const config = runConfigSchema.safeParse(run.config);
  const leaseHeld = run.steps.some((s) => s.status === "running" && s.leaseExpiresAt !== null && s.leaseExpiresAt >= options.now);
  const acts = [record.lastOperation, record.lastDecision].filter((a) => a !== null).sort((a, b) => b.at.getTime() - a.at.getTime());
  // While a lease is held, the latest write-ahead operation names the executing admin; else the latest act.
  const actor = (leaseHeld ? (record.lastOperation ?? acts[0]) : acts[0])?.actorUpn ?? run.createdByUpn;
  const times = [run.updatedAt, ...run.steps.map((s) => s.updatedAt), ...acts.map((a) => a.at)].map((d) => d.getTime());
  const tenantId = options.presenter ? maskId(run.tenantId) : run.tenantId;
  const steps = shapeSteps(run.steps, options);
  return {
    runId: run.id,
    tenantLabel: record.tenantName ?? tenantId,
    tenantId,
    status: run.status,
    steps,
    clusterCount: config.success ? config.data.clusters.length : 0,
    clustersNeedingAttention: clustersNeedingAttention(steps.flatMap((s) => s.attention)).length,
    lastActivityAt: new Date(Math.max(...times)),
    actor: { upn: actor, now: leaseHeld },
  };
}

/** The detail from a cross-tenant record; pure. */
export function shapeRunDetail(record: CrossTenantRunDetail, options: ShapeOptions): VendorRunDetail {
  const { run } = record;
  const config = runConfigSchema.safeParse(run.config);
  const mask = (s: string) => (options.presenter ? maskText(s) : s);
  const title = (stepId: string) => STEPS.find((s) => s.id === stepId)?.title ?? stepId;
  return {
    ...shapeRun(record, options),
    createdAt: run.createdAt,
    createdByUpn: run.createdByUpn,
    planConfirmedByUpn: run.planConfirmedByUpn,
    clusters: config.success ? config.data.clusters.map((c) => ({ name: c.name, location: c.location })) : [],
    storageAccounts: config.success ? config.data.storage.map((s) => s.accountName) : [],
    operations: record.operations.map((op) => ({
      id: op.id,
      at: op.completedAt ?? op.startedAt,
      step: title(op.stepId),
      kind: op.kind,
      target: mask(op.target),
      status: op.status,
      error: op.errorCode ? safeError({ code: op.errorCode, message: op.errorMessage ?? "" }, options.presenter) : null,
      requestId: op.requestId ? (options.presenter ? maskId(op.requestId) : op.requestId) : null,
      actorUpn: op.actorUpn,
    })),
    auditEvents: record.auditEvents.map((e) => ({ id: e.id, at: e.at, actorUpn: e.actorUpn, action: e.action, outcome: e.outcome })),
    olderAuditEvents: record.olderAuditEvents,
  };
}

/** Every tenant's runs for vendor staff, most recent activity first; null for anyone else. */
export async function listVendorRuns(
  session: SessionWithUser | null,
  options: { presenter: boolean; limit?: number },
): Promise<VendorRunSummary[] | null> {
  if (!session || !isVendorStaff(session)) return null;
  const now = new Date();
  const records = await listRunsAcrossTenants({ limit: options.limit ?? 200 });
  return records
    .map((r) => shapeRun(r, { presenter: options.presenter, now }))
    .sort((a, b) => b.lastActivityAt.getTime() - a.lastActivityAt.getTime());
}

/**
 * One run's read-only detail for vendor staff with a page of its audit events (newest first, or before the cursor
 * `auditBefore`), recorded in the customer's audit trail (they see that the vendor looked); null for anyone else and
 * for unknown runs.
 */
export async function openVendorRun(
  session: SessionWithUser | null,
  runId: string,
  options: { presenter: boolean; auditBefore?: string | null },
): Promise<VendorRunDetail | null> {
  if (!session || !isVendorStaff(session) || !runIdSchema.safeParse(runId).success) return null;
  const record = await getRunAcrossTenants(runId, { limit: AUDIT_PAGE_SIZE, before: options.auditBefore ?? null });
  if (!record) return null;
  await recordAuditEvent({
    tenantId: record.run.tenantId,
    actorUserId: session.user.id,
    actorUpn: session.user.upn,
    action: VENDOR_VIEW_ACTION,
    target: runId,
    runId,
    outcome: "success",
    detail: { vendorTenantId: session.user.tenantId },
  });
  return shapeRunDetail(record, { presenter: options.presenter, now: new Date() });
}
