import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  acquireOffboardingLease,
  createRun,
  getOffboarding,
  LeaseLostError,
  listAuditEvents,
  listOperations,
  recordIntent,
  releaseOffboardingLease,
  renewOffboardingLease,
} from "@/lib/db";
import { ACTOR, runningRun, setupEngineDb, testConfig, newSession } from "@/test/support/engine";
import { STEP_IDS } from "@/lib/steps/registry";
import { getOffboardingView, startOffboarding } from "./control";

setupEngineDb("offboarding-control");

const sessionOf = (tenantId: string) => newSession({ tenantId, upn: `admin@${tenantId.slice(0, 8)}.example`, displayName: "Admin" });

describe("offboarding control", () => {
  it("refuses another tenant's admin without a trace: no view, no start, no lease, no audit event", async () => {
    const run = await runningRun();
    const outsider = await sessionOf(crypto.randomUUID());
    expect(await getOffboardingView(outsider, run.id)).toBeNull();
    expect(await startOffboarding(outsider, run.id, "0".repeat(64))).toMatchObject({ ok: false, code: "forbidden" });
    expect(await getOffboarding(run.id)).toBeNull();
    expect(await listAuditEvents(outsider.user.tenantId, { limit: 10 })).toEqual([]);
  });

  it("names the tenant's other active runs, which share the deterministic objects, and no other tenant's", async () => {
    const tenantId = crypto.randomUUID();
    const run = await runningRun(tenantId);
    const sibling = await runningRun(tenantId);
    await runningRun(crypto.randomUUID());
    const view = await getOffboardingView(await sessionOf(tenantId), run.id);
    expect(view?.otherActiveRuns.map((r) => r.id)).toEqual([sibling.id]);
  });

  it("won't remove anything of a run that is still running or not started; the view shows no plan for it", async () => {
    const running = await runningRun();
    const admin = await sessionOf(running.tenantId);
    expect(await startOffboarding(admin, running.id, "0".repeat(64))).toMatchObject({ ok: false, code: "conflict" });
    const view = await getOffboardingView(admin, running.id);
    expect(view).toMatchObject({ running: false, plan: null, planError: null, record: null });

    const tenantId = crypto.randomUUID();
    const draft = await createRun({
      tenantId,
      createdByUserId: null,
      createdByUpn: ACTOR.upn,
      config: { ...testConfig(), tenantId },
      steps: STEP_IDS,
    });
    expect(await startOffboarding(await sessionOf(tenantId), draft.id, "0".repeat(64))).toMatchObject({ ok: false, code: "conflict" });
  });
});

describe("offboarding lease", () => {
  it("one holder at a time; intents are logged only under the lease; release records the outcome", async () => {
    const run = await runningRun();
    expect(await acquireOffboardingLease(run.id, "a", ACTOR.upn, 60_000)).toBe(true);
    expect(await acquireOffboardingLease(run.id, "b", ACTOR.upn, 60_000)).toBe(false);
    expect(await renewOffboardingLease(run.id, "a", 60_000)).toBe(true);
    expect(await renewOffboardingLease(run.id, "b", 60_000)).toBe(false);

    await expect(
      recordIntent({
        runId: run.id,
        stepId: "offboarding",
        leaseOwner: "b",
        key: "offboarding.delete:x",
        kind: "delete",
        target: "x",
        actorUpn: ACTOR.upn,
      }),
    ).rejects.toBeInstanceOf(LeaseLostError);
    const id = await recordIntent({
      runId: run.id,
      stepId: "offboarding",
      leaseOwner: "a",
      key: "offboarding.delete:x",
      kind: "delete",
      target: "x",
      actorUpn: ACTOR.upn,
    });
    expect((await listOperations(run.id)).filter((o) => o.stepId === "offboarding")).toMatchObject([
      { id, kind: "delete", status: "intent" },
    ]);

    expect(await releaseOffboardingLease(run.id, "b", { status: "clean", result: { items: [] } })).toBe(false);
    expect(await releaseOffboardingLease(run.id, "a", { status: "incomplete", result: { items: [] } })).toBe(true);
    expect(await getOffboarding(run.id)).toMatchObject({ status: "incomplete", leaseOwner: null, attempts: 1 });
    // Free again: the next execution takes it, a second time counts.
    expect(await acquireOffboardingLease(run.id, "b", ACTOR.upn, 60_000)).toBe(true);
    expect(await getOffboarding(run.id)).toMatchObject({ status: "running", leaseOwner: "b", attempts: 2 });
  });

  it("an expired lease can be taken over", async () => {
    const run = await runningRun();
    expect(await acquireOffboardingLease(run.id, "a", ACTOR.upn, 1)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    expect(await acquireOffboardingLease(run.id, "b", ACTOR.upn, 60_000)).toBe(true);
    expect(await renewOffboardingLease(run.id, "a", 60_000)).toBe(false);
  });
});
