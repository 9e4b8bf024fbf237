// The plan of a run: computed from live reads (no writes), stored with the run, confirmed by hash.
import "server-only";
import { createHash } from "node:crypto";
import { z } from "zod";
import { failure, type ActionResult } from "@/lib/action-result";
import { recordAuditEvent } from "@/lib/db/audit";
import { toJsonValue, type JsonValue } from "@/lib/db/json";
import { replaceUnconfirmedRunConfig, setRunPlan } from "@/lib/db/runs";
import type { SessionWithUser } from "@/lib/db/sessions";
import { planRun } from "@/lib/engine/plan-run";
import { STEP_MODULES } from "@/lib/engine/step-modules";
import { runConfigSchema, type RunConfig } from "@/lib/steps/config";
import type { StepId } from "@/lib/steps/registry";
import type { PlannedChange } from "@/lib/steps/types";
import { runIdSchema } from "./schemas";
import { sessionTokens, type TokenProvider } from "@/lib/auth/tokens";

/** What the plan page shows and the admin confirms. */
export interface StoredPlan {
  computedAt: string;
  steps: { stepId: StepId; changes: PlannedChange[]; error?: { code: string; message: string } }[];
}

/** Stable hash of a plan: the confirm button carries it, so a plan changed by someone else can't be confirmed blind. */
export function planHash(plan: unknown): string {
  return createHash("sha256").update(JSON.stringify(plan)).digest("hex");
}

/** Compute and store the plan of a run. */
export async function planStoredRun(
  runId: string,
  tenantId: string,
  actorUpn: string,
  config: RunConfig,
  tokens: TokenProvider,
): Promise<ActionResult<StoredPlan>> {
  // The run id lets steps plan the same names their apply will use (e.g. the run's client secret).
  const planned = await planRun({ config, tenantId, tokens, modules: STEP_MODULES, runId, actorUpn });
  const plan: StoredPlan = {
    computedAt: new Date().toISOString(),
    steps: planned.map((s) => ({
      stepId: s.stepId,
      changes: s.changes,
      ...(s.error ? { error: { code: s.error.code, message: s.error.message } } : {}),
    })),
  };
  if (!(await setRunPlan(runId, toJsonValue(plan)))) return failure("This run can no longer be re-planned.", { code: "conflict" });
  return { ok: true, data: plan };
}

/** A cluster of the run that the plan already knows can't be onboarded, with why and what to do. */
export interface FlaggedCluster {
  /** Opaque (a hash of the cluster id): the leave-out button posts it, the page never needs the id. */
  key: string;
  name: string;
  code: string;
  reason: string;
  action: string;
}

const lower = (s: string) => s.toLowerCase();

/** Stable, opaque key of a cluster for the plan page's leave-out button. */
export function clusterKey(clusterId: string): string {
  return createHash("sha256")
    .update(`plan-cluster|${lower(clusterId)}`)
    .digest("hex")
    .slice(0, 24);
}

/** The run's clusters that some plan line flags as impossible (e.g. at the diagnostic-settings limit), each once, in plan order. */
export function flaggedClusters(plan: StoredPlan, config: RunConfig): FlaggedCluster[] {
  const out: FlaggedCluster[] = [];
  for (const change of plan.steps.flatMap((s) => s.changes)) {
    const a = change.attention;
    if (!a || a.kind !== "cluster") continue;
    const cluster = config.clusters.find((c) => lower(c.id) === lower(a.resourceId));
    if (!cluster || out.some((f) => f.key === clusterKey(cluster.id))) continue;
    out.push({ key: clusterKey(cluster.id), name: cluster.name, code: a.code, reason: a.reason, action: a.action });
  }
  return out;
}

/** The configuration without one cluster, and without its region's storage choice when no other cluster needs that region. Pure. */
export function configWithoutCluster(
  config: RunConfig,
  key: string,
): ActionResult<{ config: RunConfig; clusterName: string; droppedAccount: string | null }> {
  const cluster = config.clusters.find((c) => clusterKey(c.id) === key);
  if (!cluster) return failure("That cluster is no longer part of this run. Reload the plan.", { code: "stale" });
  const clusters = config.clusters.filter((c) => c !== cluster);
  if (clusters.length === 0) {
    return failure(
      `${cluster.name} is the only cluster of this run, so leaving it out would leave nothing to onboard. Start a new onboarding instead.`,
      { code: "invalid" },
    );
  }
  const regionStillNeeded = clusters.some((c) => lower(c.location) === lower(cluster.location));
  const dropped = regionStillNeeded ? undefined : config.storage.find((s) => lower(s.region) === lower(cluster.location));
  const parsed = runConfigSchema.safeParse({ ...config, clusters, storage: config.storage.filter((s) => s !== dropped) });
  if (!parsed.success)
    return failure(parsed.error.issues[0]?.message ?? "The run's configuration without this cluster is not valid.", { code: "invalid" });
  return { ok: true, data: { config: parsed.data, clusterName: cluster.name, droppedAccount: dropped?.accountName ?? null } };
}

/** Input of the leave-out action: the run and the flagged cluster's opaque key. */
export const leaveClusterOutSchema = z.object({
  runId: runIdSchema,
  cluster: z.string().regex(/^[0-9a-f]{24}$/, "is not a cluster of this plan"),
});

/**
 * Leave one cluster out of a run whose plan isn't confirmed, then plan it again. `view` is the run as the gate read it;
 * the change applies only while the run still has that configuration (compare-and-set against another admin).
 */
export async function leaveClusterOut(
  session: SessionWithUser,
  view: { run: { id: string; status: string; config: JsonValue }; config: RunConfig },
  key: string,
  tokens: TokenProvider = sessionTokens(session),
): Promise<ActionResult<{ runId: string }>> {
  const runId = view.run.id;
  if (view.run.status !== "draft" && view.run.status !== "planned")
    return failure("The plan of a started run can't change.", { code: "conflict" });
  const next = configWithoutCluster(view.config, key);
  if (!next.ok) return next;
  if (!(await replaceUnconfirmedRunConfig(runId, session.user.tenantId, view.run.config, toJsonValue(next.data.config)))) {
    return failure("This plan changed meanwhile (another admin confirmed or changed it). Reload it.", { code: "conflict" });
  }
  await recordAuditEvent({
    tenantId: session.user.tenantId,
    actorUserId: session.user.id,
    actorUpn: session.user.upn,
    action: "run.cluster_left_out",
    target: runId,
    runId,
    outcome: "success",
    detail: { cluster: next.data.clusterName, ...(next.data.droppedAccount ? { droppedStorageAccount: next.data.droppedAccount } : {}) },
  });
  const planned = await planStoredRun(runId, session.user.tenantId, session.user.upn, next.data.config, tokens);
  return planned.ok ? { ok: true, data: { runId } } : planned;
}
