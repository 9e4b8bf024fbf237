// reopenCompletedRun on PGlite: only a completed run of the tenant with the expected config reopens, once.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, configureDb, migrate } from "./client";
import { reopenCompletedRun } from "./run-extension";
import { confirmRunPlan, createRun, getRunForTenant, setRunPlan, setRunStatus } from "./runs";
import { acquireStepLease, releaseStepLease } from "./step-runs";
import { testDbOptions } from "../../test/support/pglite-template";

const dataDir = path.join(".test-data", `db-run-extension-${crypto.randomBytes(4).toString("hex")}`);
const TENANT = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";
const STEPS = ["storage", "diagnostic-settings"];

beforeAll(async () => {
  configureDb(testDbOptions(dataDir));
  await migrate();
}, 60_000);
afterAll(async () => {
  await closeDb();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function completedRun(config: { clusters: string[] }) {
  const run = await createRun({ tenantId: TENANT, createdByUserId: null, createdByUpn: "a@x", config, steps: STEPS });
  expect(await setRunPlan(run.id, { steps: [] })).toBe(true);
  expect(await confirmRunPlan(run.id, "a@x")).toBe(true);
  expect(await setRunStatus(run.id, "running", { from: ["planned"] })).toBe(true);
  for (const stepId of STEPS) {
    expect(await acquireStepLease(run.id, stepId, "owner", 60_000)).toBe(true);
    expect(await releaseStepLease(run.id, stepId, "owner", { status: "done", outputs: { made: stepId } })).toBe(true);
  }
  expect(await setRunStatus(run.id, "completed", { from: ["running"] })).toBe(true);
  return run;
}

describe("reopenCompletedRun", () => {
  it("reopens a completed run once with the new config, its steps pending and their outputs cleared", async () => {
    const before = { clusters: ["a"] };
    const after = { clusters: ["a", "b"] };
    const run = await completedRun(before);
    const [first, second] = await Promise.all([
      reopenCompletedRun(run.id, TENANT, before, after),
      reopenCompletedRun(run.id, TENANT, before, after),
    ]);
    expect([first, second].filter(Boolean)).toHaveLength(1);
    const loaded = await getRunForTenant(run.id, TENANT);
    expect(loaded).toMatchObject({ status: "draft", config: after, plan: null, planConfirmedAt: null, planConfirmedByUpn: null });
    expect(loaded?.steps.map((s) => [s.status, s.outputs, s.error, s.leaseOwner])).toEqual(STEPS.map(() => ["pending", null, null, null]));
    // Not completed any more: a second extension waits until this one has run.
    expect(await reopenCompletedRun(run.id, TENANT, after, { clusters: ["c"] })).toBe(false);
  });

  it("refuses another tenant, a stale config and a run that isn't completed", async () => {
    const config = { clusters: ["x"] };
    const run = await completedRun(config);
    expect(await reopenCompletedRun(run.id, "00000000-0000-4000-8000-000000000000", config, { clusters: ["y"] })).toBe(false);
    expect(await reopenCompletedRun(run.id, TENANT, { clusters: ["stale"] }, { clusters: ["y"] })).toBe(false);
    expect((await getRunForTenant(run.id, TENANT))?.status).toBe("completed");

    const running = await createRun({ tenantId: TENANT, createdByUserId: null, createdByUpn: "a@x", config, steps: STEPS });
    expect(await reopenCompletedRun(running.id, TENANT, config, { clusters: ["y"] })).toBe(false);
  });
});
