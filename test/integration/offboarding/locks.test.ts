// Offboarding in an estate with CanNotDelete locks (simulator/scenarios/locks.json: Production's rg-aks-audit and the whole
// Development subscription): what a lock protects stays, with the lock and who can remove it named; everything else goes.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { confirmRunPlan, createRun, setRunPlan, setRunStatus } from "../../../lib/db";
import { runRemainingSteps } from "../../../lib/engine/drive-run";
import { planRun } from "../../../lib/engine/plan-run";
import { STEP_MODULES } from "../../../lib/engine/step-modules";
import { executeOffboarding } from "../../../lib/offboarding/execute";
import { STEP_IDS } from "../../../lib/steps/registry";
import { scenarioSchema } from "../../../simulator/src/contract";
import type { RunningSimulator } from "../../../simulator/src/index";
import { type JsonBody } from "../../../simulator/src/testing";
import { OWNER, simState, SUB_DEV, SUB_PROD, TENANT } from "../azure/support";
import { defaultRunConfig } from "../steps/context";
import { portalFixture } from "../portal-fixture";

let sim: RunningSimulator;
const actor = { userId: null, upn: OWNER };
const enginePolicy = {
  transientBaseDelayMs: 50,
  transientMaxDelayMs: 200,
  retryAfterMaxMs: 200,
  replicationBaseDelayMs: 100,
  replicationMaxDelayMs: 500,
  replicationBudgetMs: 20_000,
  transientAttempts: 8,
};
const policy = {
  transientAttempts: 3,
  transientBaseDelayMs: 50,
  transientMaxDelayMs: 200,
  replicationBaseDelayMs: 50,
  replicationMaxDelayMs: 200,
  verifyAttempts: 2,
  leaseTtlMs: 30_000,
};
const scenario = scenarioSchema.parse(JSON.parse(fs.readFileSync(path.join("simulator", "scenarios", "locks.json"), "utf8")));
const { tokensOf } = portalFixture(
  "offboarding-locks",
  {
    blob: true,
    scenario,
    latency: { lroMs: { storageAccount: 100, providerRegistration: 0, resourceGroupDelete: 100 }, replicationMs: 0 },
  },
  (started) => (sim = started),
);
const tokens = tokensOf(OWNER);

const ofType = (state: JsonBody, type: string): JsonBody[] =>
  (state.arm as JsonBody[]).filter((r) => String(r.type).toLowerCase() === type.toLowerCase());
const inSub = (id: unknown, sub: string) => String(id).toLowerCase().startsWith(`/subscriptions/${sub}/`);

describe("offboarding where locks protect part of the estate", () => {
  it("removes everything no lock protects, and names the lock and who can remove it for the rest", async () => {
    const config = defaultRunConfig();
    const run = await createRun({ tenantId: TENANT, createdByUserId: null, createdByUpn: OWNER, config, steps: STEP_IDS });
    const planned = await planRun({ config, tenantId: TENANT, tokens, modules: STEP_MODULES, runId: run.id });
    expect(await setRunPlan(run.id, planned as never)).toBe(true);
    expect(await confirmRunPlan(run.id, OWNER)).toBe(true);
    expect(await setRunStatus(run.id, "running", { from: ["planned"] })).toBe(true);
    // Locks block deletes only: onboarding is unaffected.
    expect(
      await runRemainingSteps({ runId: run.id, tenantId: TENANT, actor, tokens, modules: STEP_MODULES, policy: enginePolicy }),
    ).toEqual({ outcome: "completed" });

    const result = await executeOffboarding({ runId: run.id, tenantId: TENANT, actor, tokens, policy });
    if (result.outcome !== "clean" && result.outcome !== "incomplete") throw new Error(`offboarding ended ${result.outcome}`);
    expect(result.outcome).toBe("incomplete");
    const failed = result.results.filter((r) => r.outcome === "failed");
    const locked = failed.filter((r) => /resource lock/.test(r.message ?? ""));
    // Each lock-blocked item is told in words: which lock, and who may lift it. No raw Azure text.
    expect(locked.length).toBeGreaterThan(0);
    for (const r of locked) {
      expect(r.message).toMatch(/An Owner or User Access Administrator of that scope can remove the lock/);
      expect(r.message).not.toMatch(/"code"|ScopeLocked|\{/);
    }
    // The audit accounts sit in Production's locked group, and the Development subscription is locked as a whole.
    expect(locked.map((r) => r.resourceType)).toEqual(expect.arrayContaining(["Storage account", "Diagnostic setting"]));

    const state = await simState(sim);
    // What no lock covers is gone: the app and its service principal, the device, Production's diagnostic settings.
    expect((state.graph.applications as JsonBody[]).filter((a) => a.uniqueName === config.vendor.appUniqueName)).toEqual([]);
    expect(state.workbench.devices).toEqual([]);
    const settings = ofType(state, "Microsoft.Insights/diagnosticSettings").filter((s) => s.name === "aks-onboarding-kube-audit");
    expect(settings.filter((s) => inSub(s.id, SUB_PROD))).toEqual([]);
    expect(settings.filter((s) => inSub(s.id, SUB_DEV)).length).toBeGreaterThan(0);
    expect(ofType(state, "Microsoft.Storage/storageAccounts").filter((a) => inSub(a.id, SUB_PROD))).toHaveLength(2);
  }, 180_000);
});
