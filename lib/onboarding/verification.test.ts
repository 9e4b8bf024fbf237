import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { getRunForTenant, listAuditEvents } from "@/lib/db";
import { reopenFinishedStep } from "@/lib/db/step-reopen";
import { runRemainingSteps } from "@/lib/engine/drive-run";
import { ACTOR, FakeAzure, fakeModules, okTokens, runningRun, setupEngineDb, newSession } from "@/test/support/engine";
import { getVerificationView, rerunVerification } from "./verification";

setupEngineDb("verification-rerun");

const sessionOf = (tenantId: string) => newSession({ tenantId, upn: `admin@${tenantId.slice(0, 8)}.example`, displayName: "Admin" });

async function completedRun() {
  const run = await runningRun();
  expect(
    await runRemainingSteps({
      runId: run.id,
      tenantId: run.tenantId,
      actor: ACTOR,
      tokens: okTokens,
      modules: fakeModules(new FakeAzure()),
    }),
  ).toEqual({ outcome: "completed" });
  return run;
}

describe("reopenFinishedStep", () => {
  it("reopens a done step once, and never a pending one", async () => {
    const run = await completedRun();
    expect(await reopenFinishedStep(run.id, "verification")).toBe(true);
    expect(await reopenFinishedStep(run.id, "verification")).toBe(false);
    expect((await getRunForTenant(run.id, run.tenantId))?.steps.find((s) => s.stepId === "verification")?.status).toBe("pending");
  });
});

describe("rerunVerification", () => {
  it("refuses another tenant's admin without changing or revealing anything", async () => {
    const run = await completedRun();
    const outsider = await sessionOf(crypto.randomUUID());
    expect(await rerunVerification(outsider, run.id)).toMatchObject({ ok: false, code: "forbidden" });
    expect(await getVerificationView(outsider, run.id)).toBeNull();
    expect((await getRunForTenant(run.id, run.tenantId))?.status).toBe("completed");
    expect(await listAuditEvents(outsider.user.tenantId, { limit: 10 })).toEqual([]);
  });

  it("waits for the earlier steps of a run still in progress", async () => {
    const run = await runningRun();
    const admin = await sessionOf(run.tenantId);
    expect(await rerunVerification(admin, run.id)).toMatchObject({
      ok: false,
      code: "conflict",
      message: "Verification runs once every earlier step is done.",
    });
    expect((await getVerificationView(admin, run.id))?.canRerun).toBe(false);
  });

  it("reopens the step of a completed run, marks the run running and audits the request; a second click is refused", async () => {
    const run = await completedRun();
    const admin = await sessionOf(run.tenantId);
    expect((await getVerificationView(admin, run.id))?.canRerun).toBe(true);
    expect(await rerunVerification(admin, run.id)).toEqual({ ok: true, data: { runId: run.id } });
    const after = await getRunForTenant(run.id, run.tenantId);
    expect(after?.status).toBe("running");
    expect(after?.steps.filter((s) => s.stepId !== "verification").every((s) => s.status === "done")).toBe(true);
    expect(await rerunVerification(admin, run.id)).toMatchObject({ ok: false, code: "conflict" });
    const events = await listAuditEvents(run.tenantId, { limit: 20 });
    expect(events.filter((e) => e.action === "verification.rerun_requested")).toEqual([
      expect.objectContaining({ actorUpn: admin.user.upn, runId: run.id, outcome: "success" }),
    ]);
  });
});
