// Partial progress on the cluster-at-limit estate: one cluster already has 5 diagnostic settings. The plan flags it and
// can leave it out; a confirmed run completes for every other cluster ("Complete — 1 cluster needs attention"), and
// once the admin frees a slot, Re-check coverage → Extend onboards it.
import fs from "node:fs";
import path from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { confirmRunPlan, getRunForTenant, listAuditChain, setRunStatus, type SessionWithUser } from "../../../lib/db";
import { createRun } from "../../../lib/db/runs";
import { toJsonValue } from "../../../lib/db/json";
import { listRunsAttention } from "../../../lib/db/step-runs";
import { runRemainingSteps } from "../../../lib/engine/drive-run";
import { STEP_MODULES } from "../../../lib/engine/step-modules";
import { extendCoverage, recheckCoverage } from "../../../lib/onboarding/drift";
import { flaggedClusters, leaveClusterOut, planStoredRun, type StoredPlan } from "../../../lib/onboarding/plan";
import { clustersNeedingAttention, completedRunText } from "../../../lib/onboarding/step-summary";
import { runConfigSchema } from "../../../lib/steps/config";
import { DIAGNOSTIC_SETTING_NAME } from "../../../lib/steps/diagnostic-settings";
import { STEP_IDS } from "../../../lib/steps/registry";
import { parseVerificationOutput } from "../../../lib/steps/verification-results";
import { scenarioSchema } from "../../../simulator/src/contract";
import type { RunningSimulator } from "../../../simulator/src/index";
import { simJson, simToken, type JsonBody } from "../../../simulator/src/testing";
import { OWNER, setLatency, simState, TENANT } from "../azure/support";
import { defaultRunConfig } from "../steps/context";
import { portalFixture, sessionOf } from "../portal-fixture";

let sim: RunningSimulator;
let session: SessionWithUser;
const { tokensOf } = portalFixture(
  "partial",
  { blob: true, ready: async () => void (session = await sessionOf(OWNER, "Olivia Owner")) },
  (started) => (sim = started),
);
const tokens = tokensOf(OWNER);
const AT_LIMIT = "aks-payments-prod";
const scenario = scenarioSchema.parse(JSON.parse(fs.readFileSync(path.join("simulator", "scenarios", "cluster-at-limit.json"), "utf8")));

beforeEach(async () => {
  await sim.reset(scenario);
  await setLatency(sim, { lroMs: { storageAccount: 100, providerRegistration: 0 }, replicationMs: 0 });
});

const ofType = (state: JsonBody, type: string): JsonBody[] =>
  (state.arm as JsonBody[]).filter((r) => String(r.type).toLowerCase() === type.toLowerCase());
const clusterOfSetting = (s: JsonBody) => String(s.id).split("/providers/Microsoft.Insights/")[0]?.split("/").pop();

async function plannedRun() {
  const config = defaultRunConfig();
  const run = await createRun({
    tenantId: TENANT,
    createdByUserId: session.user.id,
    createdByUpn: OWNER,
    config: toJsonValue(config),
    steps: STEP_IDS,
  });
  expect((await planStoredRun(run.id, TENANT, OWNER, config, tokens)).ok).toBe(true);
  return { run, config };
}

async function confirmAndDrive(runId: string) {
  expect(await confirmRunPlan(runId, OWNER)).toBe(true);
  expect(await setRunStatus(runId, "running", { from: ["planned"] })).toBe(true);
  return runRemainingSteps({ runId, tenantId: TENANT, actor: { userId: session.user.id, upn: OWNER }, tokens, modules: STEP_MODULES });
}

async function storedPlan(runId: string) {
  const run = await getRunForTenant(runId, TENANT);
  return { run, plan: run?.plan as unknown as StoredPlan, config: runConfigSchema.parse(run?.config) };
}

describe("a cluster at the diagnostic-settings limit", () => {
  it("is flagged in the plan, and leaving it out re-plans without it (its region's account stays for the other cluster there)", async () => {
    const { run, config } = await plannedRun();
    const before = await storedPlan(run.id);
    const flagged = flaggedClusters(before.plan, config);
    expect(flagged.map((f) => [f.name, f.code])).toEqual([[AT_LIMIT, "diagnostic_settings_limit"]]);
    expect(flagged[0]?.reason).toContain("5 diagnostic settings");

    const result = await leaveClusterOut(
      session,
      { run: { id: run.id, status: "planned", config: toJsonValue(config) }, config },
      flagged[0]?.key ?? "",
      tokens,
    );
    expect(result).toEqual({ ok: true, data: { runId: run.id } });
    const after = await storedPlan(run.id);
    expect(after.run?.status).toBe("planned");
    expect(after.config.clusters.map((c) => c.name)).toEqual(["aks-web-prod-weu", "aks-dev-eastus", "aks-sandbox-weu"]);
    expect(after.config.storage.map((s) => s.region)).toEqual(["eastus", "westeurope"]);
    expect(flaggedClusters(after.plan, after.config)).toEqual([]);
    expect(JSON.stringify(after.plan)).not.toContain(AT_LIMIT);
    // A stale request (the configuration it was computed from has changed) changes nothing.
    expect(
      await leaveClusterOut(
        session,
        { run: { id: run.id, status: "planned", config: toJsonValue(config) }, config },
        flagged[0]?.key ?? "",
        tokens,
      ),
    ).toMatchObject({ ok: false, code: "conflict" });
    const trail = await listAuditChain({ tenantId: TENANT, runId: run.id });
    expect(trail.filter((e) => e.action === "run.cluster_left_out").map((e) => e.detail)).toEqual([{ cluster: AT_LIMIT }]);
  }, 60_000);

  it("does not stop the others: the run completes with 1 cluster needing attention, and Extend onboards it once a slot is free", async () => {
    const { run, config } = await plannedRun();
    const result = await confirmAndDrive(run.id);
    expect(result).toMatchObject({
      outcome: "completed",
      attention: [{ kind: "cluster", subject: AT_LIMIT, code: "diagnostic_settings_limit" }],
    });

    const done = await getRunForTenant(run.id, TENANT);
    expect(done?.status).toBe("completed");
    expect(done?.steps.map((s) => s.status)).toEqual(STEP_IDS.map(() => "done"));
    const attention = done?.steps.flatMap((s) => s.attention ?? []) ?? [];
    expect(attention.map((a) => `${a.subject}: ${a.reason} ${a.action}`)).toEqual([
      expect.stringMatching(/^aks-payments-prod: It already has 5 diagnostic settings.*Re-check coverage/),
    ]);
    expect(completedRunText(clustersNeedingAttention(attention).length)).toBe("Complete — 1 cluster needs attention");
    // The tenant's run list reads the same exceptions.
    expect([...(await listRunsAttention([run.id])).entries()].map(([id, a]) => [id, clustersNeedingAttention(a)])).toEqual([
      [run.id, [AT_LIMIT]],
    ]);

    // Every other cluster sends kube-audit; the one at the limit kept its five settings and got none of ours.
    const state = await simState(sim);
    const ours = ofType(state, "Microsoft.Insights/diagnosticSettings")
      .filter((s) => s.name === DIAGNOSTIC_SETTING_NAME)
      .map(clusterOfSetting)
      .sort();
    expect(ours).toEqual(["aks-dev-eastus", "aks-sandbox-weu", "aks-web-prod-weu"]);
    expect(ofType(state, "Microsoft.Insights/diagnosticSettings").filter((s) => clusterOfSetting(s) === AT_LIMIT)).toHaveLength(5);
    // App, role, role assignments, hand-off and verification ran.
    const app = (state.graph.applications as JsonBody[]).find((a) => a.uniqueName === config.vendor.appUniqueName);
    const sp = (state.graph.servicePrincipals as JsonBody[]).find((s) => s.appId === app?.appId);
    expect(
      ofType(state, "Microsoft.Authorization/roleAssignments").filter((a) => a.properties.principalId === sp?.id).length,
    ).toBeGreaterThan(0);
    expect(state.workbench.devices).toHaveLength(1);
    const verification = parseVerificationOutput(done?.steps.find((s) => s.stepId === "verification")?.outputs);
    expect(verification?.checks.filter((c) => c.status === "fail")).toEqual([]);
    expect(verification?.checks.length).toBeGreaterThan(0);
    const trail = await listAuditChain({ tenantId: TENANT, runId: run.id });
    expect(trail.find((e) => e.action === "run.completed")?.detail).toEqual({ clustersNeedingAttention: [AT_LIMIT] });

    // Coverage says why it isn't covered, and Extend has nothing to do while it is still at the limit.
    const atLimit = await recheckCoverage(session, run.id, tokens);
    if (!atLimit.ok) throw new Error(atLimit.message);
    expect(atLimit.data.gaps.map((g) => [g.clusterName, g.reason, g.inRun])).toEqual([[AT_LIMIT, "settings-limit", true]]);
    expect(await extendCoverage(session, run.id, [], tokens)).toMatchObject({ ok: false, code: "invalid" });

    // The admin frees a slot; Extend reopens the run and the new plan writes just that cluster's setting.
    const limited = config.clusters.find((c) => c.name === AT_LIMIT);
    const armToken = await simToken(sim, { upn: OWNER, resource: "arm" });
    const freed = await simJson(
      sim,
      "DELETE",
      `${limited?.id}/providers/Microsoft.Insights/diagnosticSettings/to-law-guard?api-version=2021-05-01-preview`,
      { token: armToken },
    );
    expect(freed.status).toBe(200);
    const free = await recheckCoverage(session, run.id, tokens);
    if (!free.ok) throw new Error(free.message);
    expect(free.data.gaps.map((g) => [g.clusterName, g.reason, g.inRun])).toEqual([[AT_LIMIT, "setting-missing", true]]);
    expect(await extendCoverage(session, run.id, [], tokens)).toEqual({ ok: true, data: { runId: run.id } });
    const { plan } = await storedPlan(run.id);
    expect(flaggedClusters(plan, config)).toEqual([]);
    const settingWrites = plan.steps
      .find((s) => s.stepId === "diagnostic-settings")
      ?.changes.filter((c) => c.action !== "no-change")
      .map((c) => c.resource);
    expect(settingWrites).toEqual([`${AT_LIMIT}/${DIAGNOSTIC_SETTING_NAME}`]);

    expect(await confirmAndDrive(run.id)).toEqual({ outcome: "completed" });
    const extended = await getRunForTenant(run.id, TENANT);
    expect(extended?.steps.flatMap((s) => s.attention ?? [])).toEqual([]);
    expect(await recheckCoverage(session, run.id, tokens)).toMatchObject({
      ok: true,
      data: { clustersChecked: 4, coveredCount: 4, gaps: [] },
    });
    const settings = ofType(await simState(sim), "Microsoft.Insights/diagnosticSettings").filter((s) => s.name === DIAGNOSTIC_SETTING_NAME);
    expect(settings.map(clusterOfSetting).sort()).toEqual(["aks-dev-eastus", "aks-payments-prod", "aks-sandbox-weu", "aks-web-prod-weu"]);
  }, 240_000);
});
