// The engine with the real step modules against the simulator: plan, run all seven steps, re-run with zero writes.
import { describe, expect, it } from "vitest";
import { confirmRunPlan, createRun, getRunForTenant, lastSucceeded, listOperations, setRunPlan, setRunStatus } from "../../../lib/db";
import { executeStep } from "../../../lib/engine/execute-step";
import { runRemainingSteps } from "../../../lib/engine/drive-run";
import { planRun } from "../../../lib/engine/plan-run";
import { STEP_MODULES } from "../../../lib/engine/step-modules";
import { STEP_IDS } from "../../../lib/steps/registry";
import type { StepModule } from "../../../lib/steps/types";
import type { RunningSimulator } from "../../../simulator/src/index";
import { OWNER, setFaults, setLatency, simRequests, TENANT } from "../azure/support";
import { defaultRunConfig, testStepContext } from "../steps/context";
import { FAST_LATENCY, portalFixture } from "../portal-fixture";

let sim: RunningSimulator;
const { tokensOf } = portalFixture("engine-e2e", { blob: true, latency: FAST_LATENCY }, (started) => (sim = started));
const tokens = tokensOf(OWNER);

const actor = { userId: null, upn: OWNER };

async function startRun() {
  const run = await createRun({
    tenantId: TENANT,
    createdByUserId: null,
    createdByUpn: OWNER,
    config: defaultRunConfig(),
    steps: STEP_IDS,
  });
  const planned = await planRun({ config: defaultRunConfig(), tenantId: TENANT, tokens, modules: STEP_MODULES, runId: run.id });
  expect(await setRunPlan(run.id, planned as never)).toBe(true);
  expect(await confirmRunPlan(run.id, OWNER)).toBe(true);
  expect(await setRunStatus(run.id, "running", { from: ["planned"] })).toBe(true);
  return { run, planned };
}

describe("engine with the real steps", () => {
  it("plans without writes, runs all seven steps, and a second run of the same step changes nothing", async () => {
    const since = new Date().toISOString();
    const { run, planned } = await startRun();
    expect(planned.filter((p) => p.error)).toEqual([]);
    expect(
      (await simRequests(sim, since)).filter(
        (r) =>
          ["PUT", "POST", "PATCH", "DELETE"].includes(r.method) &&
          !r.url.includes("/_sim") &&
          !r.url.includes("token") &&
          !r.url.includes("checkNameAvailability"),
      ),
    ).toEqual([]);

    const result = await runRemainingSteps({ runId: run.id, tenantId: TENANT, actor, tokens, modules: STEP_MODULES });
    if (result.outcome !== "completed") console.error(JSON.stringify(result, null, 2));
    expect(result).toEqual({ outcome: "completed" });
    const loaded = await getRunForTenant(run.id, TENANT);
    expect(loaded?.steps.map((s) => s.status)).toEqual(STEP_IDS.map(() => "done"));
    const ops = await listOperations(run.id);
    expect(ops.every((o) => o.status === "succeeded" || o.errorCode !== null)).toBe(true);

    // Re-running the finished run: every step reads Azure, finds everything in place, and writes nothing
    // (Verification only adds and removes its one-hour secret, the run's secret being gone).
    const outputs = Object.fromEntries((loaded?.steps ?? []).map((s) => [s.stepId, s.outputs]));
    const rerunSince = new Date().toISOString();
    for (const stepId of STEP_IDS) {
      const { ctx, writes } = testStepContext(sim, {
        runId: run.id,
        outputs,
        wroteBefore: async (key) => (await lastSucceeded(run.id, key)) !== null,
      });
      const stepModule: StepModule = STEP_MODULES[stepId];
      await stepModule.apply(ctx, await stepModule.read(ctx));
      const expected =
        stepId === "verification"
          ? [
              ["create", "succeeded"],
              ["delete", "succeeded"],
            ]
          : [];
      expect(
        writes.map((w) => [w.kind, w.status]),
        `writes of ${stepId} on re-run`,
      ).toEqual(expected);
    }
    const verificationCalls = /addPassword|removePassword|\/v1\/workspaces\//;
    expect(
      (await simRequests(sim, rerunSince)).filter(
        (r) =>
          ["PUT", "POST", "PATCH", "DELETE"].includes(r.method) &&
          !r.url.includes("checkNameAvailability") &&
          !verificationCalls.test(r.url),
      ),
    ).toEqual([]);

    // A second run for the same tenant: storage, diagnostic settings, custom role find everything in place.
    const { run: second } = await startRun();
    for (const stepId of ["storage", "diagnostic-settings"] as const) {
      expect(await executeStep({ runId: second.id, tenantId: TENANT, stepId, actor, tokens, modules: STEP_MODULES })).toMatchObject({
        ok: true,
      });
    }
    expect(await listOperations(second.id)).toEqual([]);
  }, 120_000);

  it("completes on a fresh tenant through throttling, 5xx and replication lag", async () => {
    await sim.reset();
    await setLatency(sim, { lroMs: { storageAccount: 100, providerRegistration: 0 }, replicationMs: 1_500 });
    await setFaults(sim, { rate: 0.15, kinds: ["429", "500", "503", "PrincipalNotFound", "NoBackingApplicationObject"], seed: 7 });
    const { run } = await startRun().catch(async (e: unknown) => {
      await setFaults(sim, { rate: 0 });
      throw e;
    });
    const policy = {
      transientBaseDelayMs: 50,
      transientMaxDelayMs: 200,
      retryAfterMaxMs: 200,
      replicationBaseDelayMs: 200,
      replicationMaxDelayMs: 1_000,
      replicationBudgetMs: 30_000,
      transientAttempts: 8,
    };
    const result = await runRemainingSteps({ runId: run.id, tenantId: TENANT, actor, tokens, modules: STEP_MODULES, policy });
    await setFaults(sim, { rate: 0 });
    if (result.outcome !== "completed") console.error(JSON.stringify(result, null, 2));
    expect(result).toEqual({ outcome: "completed" });
    expect((await getRunForTenant(run.id, TENANT))?.steps.map((s) => s.status)).toEqual(STEP_IDS.map(() => "done"));
  }, 120_000);
});
