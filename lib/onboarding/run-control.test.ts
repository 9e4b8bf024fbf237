import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { acquireStepLease, createRun, getRunForTenant, listAuditEvents, recordAuditEvent, setRunPlan, setStepProgress } from "@/lib/db";
import { maskText } from "@/lib/presenter";
import { ACTOR, runningRun, setupEngineDb, testConfig, newSession } from "@/test/support/engine";
import { STEP_IDS } from "@/lib/steps/registry";
import { planHash } from "./plan";
import { confirmAndStart, continueRun, getRunChange, getRunView, replan } from "./run-control";

setupEngineDb("run-control");

const sessionOf = (tenantId: string) => newSession({ tenantId, upn: `admin@${tenantId.slice(0, 8)}.example`, displayName: "Admin" });

async function plannedRun() {
  const tenantId = crypto.randomUUID();
  const run = await createRun({
    tenantId,
    createdByUserId: null,
    createdByUpn: ACTOR.upn,
    config: { ...testConfig(), tenantId },
    steps: STEP_IDS,
  });
  const plan = { computedAt: new Date().toISOString(), steps: [] };
  expect(await setRunPlan(run.id, plan)).toBe(true);
  return run;
}

describe("run control", () => {
  it("refuses every run action from another tenant's admin, and changes nothing", async () => {
    const planned = await plannedRun();
    const running = await runningRun();
    const outsider = await sessionOf(crypto.randomUUID());

    expect(await getRunView(outsider, planned.id)).toBeNull();
    expect(await confirmAndStart(outsider, planned.id, "0".repeat(64))).toMatchObject({ ok: false, code: "forbidden" });
    expect(await replan(outsider, planned.id)).toMatchObject({ ok: false, code: "forbidden" });
    expect(await continueRun(outsider, running.id)).toMatchObject({ ok: false, code: "forbidden" });

    expect((await getRunForTenant(planned.id, planned.tenantId))?.status).toBe("planned");
    expect((await getRunForTenant(planned.id, planned.tenantId))?.planConfirmedAt).toBeNull();
    expect(await listAuditEvents(outsider.user.tenantId, { limit: 10 })).toEqual([]);
  });

  it("gives the run page a stamp that moves with status, not with progress or a working step's events; progress comes beside it", async () => {
    const run = await runningRun();
    const admin = await sessionOf(run.tenantId);
    const first = await getRunChange(admin, run.id);
    expect(first).toEqual({ stamp: expect.stringMatching(/^[\w-]{22}$/), progress: {} });
    expect(await getRunChange(admin, run.id)).toEqual(first);
    expect(await acquireStepLease(run.id, "storage", "stamp-test:1", 60_000)).toBe(true);
    const started = await getRunChange(admin, run.id);
    expect(started?.stamp).not.toBe(first?.stamp); // the step started: re-render
    expect(await setStepProgress(run.id, "storage", "stamp-test:1", { done: 1, total: 2, label: "Account stauditeastus1 of 2" })).toBe(
      true,
    );
    await recordAuditEvent({ tenantId: run.tenantId, runId: run.id, actorUpn: admin.user.upn, action: "azure.write", outcome: "success" });
    const progressed = await getRunChange(admin, run.id);
    expect(progressed).toEqual({
      stamp: started?.stamp,
      progress: { storage: { done: 1, total: 2, label: "Account stauditeastus1 of 2" } },
    });
    const masked = await getRunChange(admin, run.id, { presenter: true });
    expect(masked?.progress.storage?.label).toBe(maskText("Account stauditeastus1 of 2"));
    // A lease that lapses (a crashed server) moves the stamp by itself: the page must show Interrupted and Resume.
    expect(await acquireStepLease(run.id, "diagnostic-settings", "stamp-test:2", 300)).toBe(true);
    const leased = await getRunChange(admin, run.id);
    await new Promise((r) => setTimeout(r, 400));
    expect((await getRunChange(admin, run.id))?.stamp).not.toBe(leased?.stamp);
    expect(await getRunChange(await sessionOf(crypto.randomUUID()), run.id)).toBeNull();
  });

  it("moves the stamp with a new audit event while no step works (a decision, a hand-off request)", async () => {
    const run = await runningRun();
    const admin = await sessionOf(run.tenantId);
    const before = await getRunChange(admin, run.id);
    await recordAuditEvent({
      tenantId: run.tenantId,
      runId: run.id,
      actorUpn: admin.user.upn,
      action: "run.handoff_requested",
      outcome: "success",
    });
    expect((await getRunChange(admin, run.id))?.stamp).not.toBe(before?.stamp);
  });

  it("confirms only the plan the admin saw", async () => {
    const run = await plannedRun();
    const admin = await sessionOf(run.tenantId);
    const view = await getRunView(admin, run.id);
    expect(view?.planHash).toBe(planHash(view?.plan));

    expect(await confirmAndStart(admin, run.id, "f".repeat(64))).toMatchObject({ ok: false, code: "plan_changed" });
    expect((await getRunForTenant(run.id, run.tenantId))?.status).toBe("planned");
  });

  it("won't continue a run whose plan isn't confirmed", async () => {
    const run = await plannedRun();
    const admin = await sessionOf(run.tenantId);
    expect(await continueRun(admin, run.id)).toMatchObject({ ok: false, code: "conflict" });
  });
});
