// Outbound time limits against the simulator: a request held past AZURE_REQUEST_TIMEOUT_SECONDS becomes a transient
// timeout the engine retries; held for good, the step stops with a clear message and its lease released.
import { afterAll, describe, expect, it } from "vitest";
import { createStorageAccount } from "../../../lib/azure/create-storage-account";
import { AzureOperationError, classifyAzureError } from "../../../lib/azure/errors";
import { getApplicationByUniqueName } from "../../../lib/azure/get-application-by-unique-name";
import { listWorkbenchDevices } from "../../../lib/workbench/list-devices";
import { workbenchConfig } from "../../../lib/workbench/client";
import { confirmRunPlan, createRun, getRunForTenant, listOperations, setRunPlan, setRunStatus } from "../../../lib/db";
import { executeStep } from "../../../lib/engine/execute-step";
import { STEP_MODULES } from "../../../lib/engine/step-modules";
import { STEP_IDS } from "../../../lib/steps/registry";
import type { RunningSimulator } from "../../../simulator/src/index";
import { simJson } from "../../../simulator/src/testing";
import { azureError, OWNER, setLatency, SUB_PROD, TENANT, userCredential } from "../azure/support";
import { defaultRunConfig } from "../steps/context";
import { portalFixture } from "../portal-fixture";

// env() parses once per process: the limits must be set before the first call. 2 s keeps the file fast (real: 30 s)
// and still leaves a loaded CI machine's simulator time to answer the requests that are not held.
process.env.AZURE_REQUEST_TIMEOUT_SECONDS = "2";
process.env.AZURE_LRO_BUDGET_SECONDS = "3";

let sim: RunningSimulator;
const { tokensOf } = portalFixture("engine-timeouts", {}, (started) => (sim = started));
const tokens = tokensOf(OWNER);
// Before the fixture closes the simulator: held requests are let go.
afterAll(() => simJson(sim, "DELETE", "/_sim/holds"));
const actor = { userId: null, upn: OWNER };
const POLICY = { transientBaseDelayMs: 100, transientMaxDelayMs: 200, retryAfterMaxMs: 200 };
const DIAGNOSTIC_PUT = "/providers/Microsoft\\.Insights/diagnosticSettings/";

/** A fresh simulated tenant and a running run whose storage step is done: the next step is the diagnostic settings. */
async function runAtDiagnosticSettings() {
  await simJson(sim, "DELETE", "/_sim/holds");
  await sim.reset();
  await setLatency(sim, { lroMs: { storageAccount: 100, providerRegistration: 0 }, replicationMs: 0 });
  const run = await createRun({
    tenantId: TENANT,
    createdByUserId: null,
    createdByUpn: OWNER,
    config: defaultRunConfig(),
    steps: STEP_IDS,
  });
  expect(await setRunPlan(run.id, { steps: [] })).toBe(true);
  expect(await confirmRunPlan(run.id, OWNER)).toBe(true);
  expect(await setRunStatus(run.id, "running", { from: ["planned"] })).toBe(true);
  expect(
    await executeStep({
      runId: run.id,
      tenantId: TENANT,
      stepId: "storage",
      actor,
      tokens,
      modules: STEP_MODULES,
      policy: { ...POLICY, transientAttempts: 20 },
    }),
  ).toMatchObject({ ok: true });
  return run;
}

/** Hold the first `count` requests matching method and path, before they are applied, for up to `ms`. */
async function hold(method: string, pathRegex: string, count: number, ms = 60_000): Promise<void> {
  const rules = Array.from({ length: count }, (_, i) => ({
    name: `${method}-${i + 1}`,
    method,
    path: pathRegex,
    nth: i + 1,
    phase: "before",
    ms,
  }));
  expect((await simJson(sim, "POST", "/_sim/holds", { body: { rules } })).status).toBe(200);
}

/** How many of the held requests have arrived so far. */
async function heldCount(): Promise<number> {
  const { body } = await simJson(sim, "GET", "/_sim/holds");
  return (body.holds as { heldAt: string | null }[]).filter((h) => h.heldAt !== null).length;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a request held past the time limit", () => {
  it("is retried by the engine, and the step completes once the hold is released", async () => {
    const run = await runAtDiagnosticSettings();
    // Every diagnostic-setting PUT hangs until released, four per attempt (one per cluster, side by side): when the
    // third attempt's are held, the first two attempts have timed out.
    await hold("PUT", DIAGNOSTIC_PUT, 40);
    const started = Date.now();
    const execution = executeStep({
      runId: run.id,
      tenantId: TENANT,
      stepId: "diagnostic-settings",
      actor,
      tokens,
      modules: STEP_MODULES,
      policy: { ...POLICY, transientAttempts: 20 },
    });
    await until("three attempts held", async () => (await heldCount()) >= 12);
    const heldFor = Date.now() - started;
    expect((await getRunForTenant(run.id, TENANT))?.steps.find((s) => s.stepId === "diagnostic-settings")).toMatchObject({
      status: "running",
    });
    expect((await simJson(sim, "DELETE", "/_sim/holds")).status).toBe(204);

    const result = await execution;
    const total = Date.now() - started;
    expect(result).toMatchObject({ ok: true });
    const ops = (await listOperations(run.id)).filter((o) => o.stepId === "diagnostic-settings");
    const timedOut = ops.filter((o) => o.errorCode === "timeout");
    expect(timedOut.length).toBeGreaterThanOrEqual(8);
    expect(timedOut[0]?.errorMessage).toMatch(/^Azure did not answer within 2 s, so the portal could not /);
    expect((await getRunForTenant(run.id, TENANT))?.steps.find((s) => s.stepId === "diagnostic-settings")).toMatchObject({
      status: "done",
      error: null,
      leaseOwner: null,
      leaseExpiresAt: null,
    });
    console.info(`[timeouts] held-then-released: third attempt held after ${heldFor} ms, step done after ${total} ms (limit 2 s)`);
  }, 60_000);

  it("stops the step with a clear message after the retry budget when the hold never ends, and releases its lease", async () => {
    const run = await runAtDiagnosticSettings();
    await hold("PUT", DIAGNOSTIC_PUT, 50);
    const started = Date.now();
    const result = await executeStep({
      runId: run.id,
      tenantId: TENANT,
      stepId: "diagnostic-settings",
      actor,
      tokens,
      modules: STEP_MODULES,
      policy: { ...POLICY, transientAttempts: 3 },
    });
    const took = Date.now() - started;
    expect(result).toMatchObject({ ok: false, code: "timeout", status: "failed" });
    const message = result.ok ? "" : result.message;
    expect(message).toBe(
      "Azure did not answer within 2 s, so the portal could not send the cluster's kube-audit logs to the storage account. Retry; if it keeps happening, the service is slow or unreachable from the portal.",
    );
    // Three attempts of one limit each plus two short waits: the budget bounds the step, not the hold.
    expect(took).toBeLessThan(20_000);
    expect(await heldCount()).toBe(12);
    const step = (await getRunForTenant(run.id, TENANT))?.steps.find((s) => s.stepId === "diagnostic-settings");
    expect(step).toMatchObject({ status: "failed", leaseOwner: null, leaseExpiresAt: null, error: { code: "timeout", message } });
    console.info(`[timeouts] held for good: step failed after ${took} ms, 3 attempts × 4 PUTs held (limit 2 s)`);
  }, 60_000);
});

describe("every client has the limit", () => {
  it("Microsoft Graph: a held read fails as a transient timeout naming Graph", async () => {
    await hold("GET", "^/v1\\.0/applications", 1);
    const started = Date.now();
    const error = await azureError(getApplicationByUniqueName(userCredential(sim, OWNER, "graph"), "timeout-test-app"));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error.code).toBe("timeout");
    expect(error.message).toMatch(/^Microsoft Graph did not answer within 2 s, so the portal could not /);
    expect(classifyAzureError(error)).toBe("transient");
    await simJson(sim, "DELETE", "/_sim/holds");
    // The client still works once Graph answers again.
    expect(await getApplicationByUniqueName(userCredential(sim, OWNER, "graph"), "timeout-test-app")).toBeNull();
  });

  it("Workbench: a held request fails as a transient timeout", async () => {
    const config = workbenchConfig();
    expect(config).not.toBeNull();
    await hold("GET", "^/workbench/api/v1/security-devices", 1);
    const error = await listWorkbenchDevices(config as NonNullable<typeof config>).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AzureOperationError);
    expect(error).toMatchObject({ code: "timeout", message: expect.stringContaining("Workbench did not answer within 2 s") });
    await simJson(sim, "DELETE", "/_sim/holds");
  });

  it("a storage account create that Azure doesn't finish within the LRO budget fails as a transient timeout", async () => {
    await sim.reset();
    await setLatency(sim, { lroMs: { storageAccount: 30_000 }, replicationMs: 0 });
    const started = Date.now();
    const error = await azureError(
      createStorageAccount(userCredential(sim, OWNER, "arm"), SUB_PROD, "rg-aks-prod-eastus", {
        name: "stlrobudget01",
        location: "eastus",
      }),
    );
    const took = Date.now() - started;
    expect(error.code).toBe("timeout");
    expect(error.message).toBe(
      "Azure did not finish creating the storage account stlrobudget01 within 3 s. Retry; the next attempt picks up the account if Azure finished it meanwhile.",
    );
    expect(classifyAzureError(error)).toBe("transient");
    expect(took).toBeGreaterThanOrEqual(2_900);
    expect(took).toBeLessThan(8_000);
  });
});
