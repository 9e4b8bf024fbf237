// Shared vitest suite for onboarding runs, the lease set of every kind (step, offboarding, rotation), the operation log and
// run secrets, run against PGlite and PostgreSQL. Test-only.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, configureDb, db, migrate, type DbOptions } from "@/lib/db/client";
import { listAuditChain } from "@/lib/db/audit";
import {
  findPendingIntents,
  lastSucceeded,
  listOperations,
  recordIntent,
  recordIntents,
  recordOutcome,
  recordOutcomesWithAudit,
} from "@/lib/db/operations";
import { deleteExpiredRunSecrets, deleteRunSecret, getRunSecret, putRunSecret } from "@/lib/db/run-secrets";
import {
  confirmRunPlan,
  createRun,
  getRunForTenant,
  listRunsForTenant,
  setRunPlan,
  setRunStatus,
  type OnboardingRunWithSteps,
} from "@/lib/db/runs";
import {
  acquireStepLease,
  LeaseLostError,
  listExpiredRunningSteps,
  releaseStepLease,
  renewStepLease,
  setStepProgress,
} from "@/lib/db/step-runs";
import { upsertUser } from "@/lib/db/users";
import { acquireLease, leaseExpiry, releaseLease, renewLease, stepLease } from "@/lib/db/leases";
import { acquireOffboardingLease, getOffboarding, releaseOffboardingLease, setOffboardingProgress } from "@/lib/db/offboardings";
import { advanceRotation, getRotation, releaseRotation, resumeRotation, startRotation } from "@/lib/db/rotations";

const STEPS = ["storage", "diagnostic-settings", "app-registration", "custom-role", "role-assignments", "workbench-handoff"];
const MINUTE = 60_000;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now()}-${++seq}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Registers the run-query tests on the database that `options()` describes (resolved in beforeAll). */
export function describeRunQueries(label: string, options: () => DbOptions): void {
  describe(`lib/db runs on ${label}`, () => {
    beforeAll(async () => {
      configureDb(options());
      await migrate();
    }, 120_000);
    afterAll(() => closeDb());

    const newRun = async (tenantId = unique("tenant"), steps = STEPS) => {
      const user = await upsertUser({ tenantId, objectId: unique("oid"), upn: "admin@contoso.example", displayName: "Admin" });
      return createRun({
        tenantId,
        createdByUserId: user.id,
        createdByUpn: user.upn,
        config: { clusters: ["aks-1"], region: "westeurope" },
        steps,
      });
    };

    // A run whose plan was confirmed and that was started: its steps can be leased.
    const runningRun = async (steps = STEPS): Promise<OnboardingRunWithSteps> => {
      const run = await newRun(unique("tenant"), steps);
      expect(await setRunPlan(run.id, { storage: { name: "st1" } })).toBe(true);
      expect(await confirmRunPlan(run.id, "admin@contoso.example")).toBe(true);
      expect(await setRunStatus(run.id, "running", { from: ["planned"] })).toBe(true);
      return run;
    };

    it("creates a draft run with unguessable id and its steps pending, in order", async () => {
      const run = await newRun();
      expect(run.id).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(run).toMatchObject({
        status: "draft",
        plan: null,
        planConfirmedAt: null,
        config: { clusters: ["aks-1"], region: "westeurope" },
      });
      expect(run.steps.map((s) => [s.stepId, s.position, s.status, s.attempts])).toEqual(STEPS.map((id, i) => [id, i, "pending", 0]));
      expect(run.steps.every((s) => s.leaseOwner === null && s.startedAt === null && s.progress === null && s.error === null)).toBe(true);

      const loaded = await getRunForTenant(run.id, run.tenantId);
      expect(loaded).toEqual(run);
      // Steps come back by position, not by insertion or id order.
      const reversed = await newRun(run.tenantId, [...STEPS].reverse());
      expect((await getRunForTenant(reversed.id, run.tenantId))?.steps.map((s) => s.stepId)).toEqual([...STEPS].reverse());
      expect(reversed.id).not.toBe(run.id);

      await expect(newRun(run.tenantId, ["storage", "storage"])).rejects.toThrow(/duplicate/);
    });

    it("creates runs concurrently, each with all its steps", async () => {
      const tenantId = unique("tenant");
      const runs = await Promise.all(Array.from({ length: 6 }, () => newRun(tenantId)));
      expect(new Set(runs.map((r) => r.id)).size).toBe(6);
      for (const run of runs) {
        expect((await getRunForTenant(run.id, tenantId))?.steps.map((s) => s.stepId)).toEqual(STEPS);
      }
      expect(await listRunsForTenant(tenantId, { limit: 10 })).toHaveLength(6);
    });

    it("keeps a run invisible to other tenants (same answer as a missing run)", async () => {
      const run = await newRun();
      const other = await newRun();
      expect(await getRunForTenant(run.id, other.tenantId)).toBeNull();
      expect(await getRunForTenant(unique("missing"), run.tenantId)).toBeNull();
      expect(await getRunForTenant(run.id, "")).toBeNull();

      await sleep(5); // distinct createdAt
      const second = await newRun(run.tenantId);
      expect((await listRunsForTenant(run.tenantId, { limit: 10 })).map((r) => r.id)).toEqual([second.id, run.id]);
      expect((await listRunsForTenant(run.tenantId, { limit: 1 })).map((r) => r.id)).toEqual([second.id]);
      expect((await listRunsForTenant(other.tenantId, { limit: 10 })).map((r) => r.id)).toEqual([other.id]);
    });

    it("keeps the creator's upn when the user is deleted, and deletes steps, log and secrets with the run", async () => {
      const run = await newRun();
      await recordIntent({ runId: run.id, stepId: "storage", key: "k", kind: "create", target: "t", actorUpn: "a@b" });
      await putRunSecret({
        runId: run.id,
        kind: "client_secret",
        ciphertext: "c",
        keyId: "k1",
        hint: "abc",
        expiresAt: new Date(Date.now() + MINUTE),
      });
      const prisma = await db();
      await prisma.user.delete({ where: { id: run.createdByUserId! } });
      expect(await getRunForTenant(run.id, run.tenantId)).toMatchObject({ createdByUserId: null, createdByUpn: "admin@contoso.example" });

      await prisma.onboardingRun.delete({ where: { id: run.id } });
      expect(await prisma.stepRun.count({ where: { runId: run.id } })).toBe(0);
      expect(await listOperations(run.id)).toEqual([]);
      expect(await getRunSecret(run.id, "client_secret")).toBeNull();
    });

    it("plans, confirms once (the plan the admin saw) and starts only a confirmed run", async () => {
      const run = await newRun();
      expect(await confirmRunPlan(run.id, "a@contoso.example")).toBe(false); // no plan yet
      expect(await setRunStatus(run.id, "running")).toBe(false); // not confirmed

      expect(await setRunPlan(run.id, { v: 1 })).toBe(true);
      expect(await confirmRunPlan(run.id, "a@contoso.example", { plan: { v: 0 } })).toBe(false); // stale view
      expect(await setRunStatus(run.id, "running", { from: ["planned"] })).toBe(false);

      const confirms = await Promise.all(
        ["a", "b", "c", "d"].map((who) => confirmRunPlan(run.id, `${who}@contoso.example`, { plan: { v: 1 } })),
      );
      expect(confirms.filter(Boolean)).toHaveLength(1);
      const confirmed = await getRunForTenant(run.id, run.tenantId);
      expect(confirmed).toMatchObject({ status: "planned", plan: { v: 1 } });
      expect(confirmed?.planConfirmedAt).toBeInstanceOf(Date);
      expect(confirmed?.planConfirmedByUpn).toBe(`${["a", "b", "c", "d"][confirms.indexOf(true)]}@contoso.example`);

      // A re-plan drops the confirmation.
      expect(await setRunPlan(run.id, { v: 2 })).toBe(true);
      expect(await getRunForTenant(run.id, run.tenantId)).toMatchObject({
        plan: { v: 2 },
        planConfirmedAt: null,
        planConfirmedByUpn: null,
      });
      expect(await confirmRunPlan(run.id, "a@contoso.example", { plan: { v: 2 } })).toBe(true);

      expect(await setRunStatus(run.id, "running", { from: ["draft"] })).toBe(false);
      expect(await setRunStatus(run.id, "running", { from: ["planned"] })).toBe(true);
      expect(await setRunPlan(run.id, { v: 3 })).toBe(false); // past planning
      expect(await setRunStatus(run.id, "completed", { from: [] })).toBe(false);

      // Cancel vs. complete at once: exactly one transition wins.
      const [cancelled, completed] = await Promise.all([
        setRunStatus(run.id, "cancelled", { from: ["running"] }),
        setRunStatus(run.id, "completed", { from: ["running"] }),
      ]);
      expect(Number(cancelled) + Number(completed)).toBe(1);
      expect((await getRunForTenant(run.id, run.tenantId))?.status).toBe(cancelled ? "cancelled" : "completed");
    });

    it("gives a step's lease to exactly one of concurrent acquirers", async () => {
      const timings: number[] = [];
      for (let round = 0; round < 5; round++) {
        const run = await runningRun(["storage"]);
        const owners = Array.from({ length: 8 }, (_, i) => `worker-${round}-${i}`);
        const start = performance.now();
        const results = await Promise.all(owners.map((owner) => acquireStepLease(run.id, "storage", owner, MINUTE)));
        timings.push(performance.now() - start);
        expect(results.filter(Boolean)).toHaveLength(1);
        const step = (await getRunForTenant(run.id, run.tenantId))?.steps[0];
        expect(step).toMatchObject({ status: "running", attempts: 1, leaseOwner: owners[results.indexOf(true)] });
        expect(step?.leaseExpiresAt?.getTime()).toBeGreaterThan(Date.now() + MINUTE / 2);
      }
      console.log(`[timing] ${label} lease race, 8 acquirers × 5 rounds: ${timings.map((t) => `${Math.round(t)} ms`).join(", ")}`);
    });

    it("gives an expired lease to exactly one of concurrent takers", async () => {
      const timings: number[] = [];
      for (let round = 0; round < 3; round++) {
        const run = await runningRun(["storage"]);
        expect(await acquireStepLease(run.id, "storage", "crashed", 20)).toBe(true);
        await sleep(60);
        const start = performance.now();
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => acquireStepLease(run.id, "storage", `taker-${i}`, MINUTE)));
        timings.push(performance.now() - start);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect((await getRunForTenant(run.id, run.tenantId))?.steps[0]).toMatchObject({
          attempts: 2,
          leaseOwner: `taker-${results.indexOf(true)}`,
        });
      }
      console.log(
        `[timing] ${label} expired-lease takeover race, 8 takers × 3 rounds: ${timings.map((t) => `${Math.round(t)} ms`).join(", ")}`,
      );
    });

    it("lets an expired lease be taken over; the lost holder can neither renew, report progress nor release", async () => {
      const run = await runningRun();
      // Long enough that "b" surely meets a live lease on a slow machine, short enough to wait for.
      expect(await acquireStepLease(run.id, "storage", "a", 400)).toBe(true);
      expect(await acquireStepLease(run.id, "storage", "b", MINUTE)).toBe(false); // live lease
      expect(await setStepProgress(run.id, "storage", "a", { done: 1, total: 3, label: "Creating st1" })).toBe(true);
      const first = (await getRunForTenant(run.id, run.tenantId))!.steps[0]!;
      expect(first.progress).toEqual({ done: 1, total: 3, label: "Creating st1" });

      await sleep(500);
      const expired = await listExpiredRunningSteps({ limit: 1000 });
      expect(expired.find((s) => s.runId === run.id)).toMatchObject({ stepId: "storage", tenantId: run.tenantId, leaseOwner: "a" });

      expect(await acquireStepLease(run.id, "storage", "b", MINUTE)).toBe(true);
      expect((await listExpiredRunningSteps({ limit: 1000 })).some((s) => s.runId === run.id)).toBe(false);
      expect(await renewStepLease(run.id, "storage", "a", MINUTE)).toBe(false);
      expect(await setStepProgress(run.id, "storage", "a", { done: 3, total: 3, label: "stale" })).toBe(false);
      expect(await releaseStepLease(run.id, "storage", "a", { status: "failed", error: { code: "x", message: "stale" } })).toBe(false);
      await expect(
        recordIntent({ runId: run.id, stepId: "storage", key: "k", kind: "create", target: "t", actorUpn: "a@b", leaseOwner: "a" }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      expect(await listOperations(run.id)).toEqual([]);

      const taken = (await getRunForTenant(run.id, run.tenantId))!.steps[0]!;
      expect(taken).toMatchObject({ status: "running", leaseOwner: "b", attempts: 2, progress: first.progress });
      expect(taken.startedAt).toEqual(first.startedAt); // first attempt's start is kept

      expect(await renewStepLease(run.id, "storage", "b", MINUTE)).toBe(true);
      expect(await setStepProgress(run.id, "storage", "b", { done: 3, total: 3, label: "Done" })).toBe(true);
      expect(await releaseStepLease(run.id, "storage", "b", { status: "done", outputs: { storageAccountId: "/sub/x" } })).toBe(true);
      const done = (await getRunForTenant(run.id, run.tenantId))!.steps[0]!;
      expect(done).toMatchObject({
        status: "done",
        leaseOwner: null,
        leaseExpiresAt: null,
        outputs: { storageAccountId: "/sub/x" },
        error: null,
      });
      expect(done.finishedAt).toBeInstanceOf(Date);
      expect(await releaseStepLease(run.id, "storage", "b", { status: "done" })).toBe(false); // already released
      expect(await renewStepLease(run.id, "storage", "b", MINUTE)).toBe(false);
      expect(await acquireStepLease(run.id, "storage", "c", MINUTE)).toBe(false); // a done step is not run again
    });

    it("leases only steps of a running run; the holder may re-acquire, renew an expired lease and hand the step back", async () => {
      const draft = await newRun();
      expect(await acquireStepLease(draft.id, "storage", "a", MINUTE)).toBe(false);
      expect(await acquireStepLease(draft.id, "no-such-step", "a", MINUTE)).toBe(false);

      const run = await runningRun();
      expect(await acquireStepLease(run.id, "custom-role", "a", 30)).toBe(true);
      expect(await acquireStepLease(run.id, "custom-role", "a", 30)).toBe(true); // already ours
      await sleep(60);
      expect(await renewStepLease(run.id, "custom-role", "a", MINUTE)).toBe(true); // expired but not taken over
      expect(await acquireStepLease(run.id, "custom-role", "b", MINUTE)).toBe(false);

      const error = { code: "forbidden", message: "You need Owner", requiredRole: "Owner", whoCanAct: "an Owner of Production" };
      expect(await releaseStepLease(run.id, "custom-role", "a", { status: "needs_admin", outputs: { partial: true }, error })).toBe(true);
      let step = (await getRunForTenant(run.id, run.tenantId))!.steps.find((s) => s.stepId === "custom-role")!;
      expect(step).toMatchObject({ status: "needs_admin", attempts: 2, error, outputs: { partial: true }, leaseOwner: null });
      expect(step.finishedAt).toBeInstanceOf(Date);

      // A second admin of the tenant continues the step.
      expect(await acquireStepLease(run.id, "custom-role", "b", MINUTE)).toBe(true);
      step = (await getRunForTenant(run.id, run.tenantId))!.steps.find((s) => s.stepId === "custom-role")!;
      expect(step).toMatchObject({ status: "running", attempts: 3, finishedAt: null, error });
      expect(await releaseStepLease(run.id, "custom-role", "b", { status: "pending" })).toBe(true);
      step = (await getRunForTenant(run.id, run.tenantId))!.steps.find((s) => s.stepId === "custom-role")!;
      expect(step).toMatchObject({ status: "pending", finishedAt: null, error: null, outputs: { partial: true }, leaseOwner: null });

      await expect(acquireStepLease(run.id, "storage", "a", 0)).rejects.toThrow(RangeError);
      expect(await acquireStepLease(run.id, "storage", "a", 20)).toBe(true);
      await sleep(50);
      expect((await listExpiredRunningSteps({ limit: 1000 })).some((s) => s.runId === run.id)).toBe(true);
      expect(await setRunStatus(run.id, "cancelled", { from: ["running"] })).toBe(true);
      // Cancelled: nothing starts or resumes, but the holder can still hand its step back.
      expect((await listExpiredRunningSteps({ limit: 1000 })).some((s) => s.runId === run.id)).toBe(false);
      expect(await acquireStepLease(run.id, "app-registration", "c", MINUTE)).toBe(false);
      expect(await acquireStepLease(run.id, "storage", "c", MINUTE)).toBe(false);
      expect(await releaseStepLease(run.id, "storage", "a", { status: "pending" })).toBe(true);
    });

    it("logs intents before outcomes, in order, and finds what an interrupted attempt left pending", async () => {
      const run = await runningRun();
      expect(await acquireStepLease(run.id, "storage", "w", MINUTE)).toBe(true);
      const actorUpn = "admin@contoso.example";
      const rg = "storage.create:/subscriptions/s/resourceGroups/rg";
      const sa = "storage.create:/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1";
      const i1 = await recordIntent({ runId: run.id, stepId: "storage", key: rg, kind: "create", target: "rg", actorUpn, leaseOwner: "w" });
      const i2 = await recordIntent({
        runId: run.id,
        stepId: "storage",
        key: sa,
        kind: "create",
        target: "st1",
        actorUpn,
        leaseOwner: "w",
      });
      const i3 = await recordIntent({
        runId: run.id,
        stepId: "custom-role",
        key: "role.create:x",
        kind: "create",
        target: "role",
        actorUpn,
      });
      expect(BigInt(i2)).toBeGreaterThan(BigInt(i1));

      expect(await lastSucceeded(run.id, rg)).toBeNull();
      expect(await recordOutcome(i1, { status: "succeeded", resourceId: "/subscriptions/s/resourceGroups/rg", requestId: "req-1" })).toBe(
        true,
      );
      expect(await recordOutcome(i1, { status: "failed", errorCode: "late" })).toBe(false); // outcome is recorded once
      expect(await recordOutcome("999999999999", { status: "succeeded" })).toBe(false);
      expect(await recordOutcome("not-an-id", { status: "succeeded" })).toBe(false);

      // The attempt "crashes" here: i2 has no outcome.
      expect((await findPendingIntents(run.id, "storage")).map((o) => o.id)).toEqual([i2]);
      expect((await findPendingIntents(run.id, "custom-role")).map((o) => o.id)).toEqual([i3]);

      const ops = await listOperations(run.id, { stepId: "storage" });
      expect(ops.map((o) => [o.id, o.status])).toEqual([
        [i1, "succeeded"],
        [i2, "intent"],
      ]);
      expect(ops[0]).toMatchObject({
        key: rg,
        kind: "create",
        target: "rg",
        resourceId: "/subscriptions/s/resourceGroups/rg",
        requestId: "req-1",
        actorUpn,
        errorCode: null,
      });
      expect(ops[0]!.completedAt!.getTime()).toBeGreaterThanOrEqual(ops[0]!.startedAt.getTime());
      expect(ops[1]!.completedAt).toBeNull();
      expect((await listOperations(run.id)).map((o) => o.id)).toEqual([i1, i2, i3]);

      // The resumed attempt finds st1 failed, retries and succeeds: lastSucceeded is the newest success.
      expect(
        await recordOutcome(i2, { status: "failed", errorCode: "StorageAccountAlreadyTaken", errorMessage: "taken", requestId: "req-2" }),
      ).toBe(true);
      expect(await findPendingIntents(run.id, "storage")).toEqual([]);
      expect(await lastSucceeded(run.id, sa)).toBeNull();
      const i4 = await recordIntent({ runId: run.id, stepId: "storage", key: sa, kind: "adopt", target: "st1", actorUpn, leaseOwner: "w" });
      expect(await recordOutcome(i4, { status: "succeeded", resourceId: "/st1" })).toBe(true);
      expect(await lastSucceeded(run.id, sa)).toMatchObject({ id: i4, kind: "adopt", resourceId: "/st1", status: "succeeded" });
      expect(await lastSucceeded(run.id, rg)).toMatchObject({ id: i1 });
      expect(await lastSucceeded((await newRun()).id, rg)).toBeNull();

      await expect(
        recordIntent({ runId: run.id, stepId: "storage", key: "k", kind: "explode" as "create", target: "t", actorUpn }),
      ).rejects.toThrow(TypeError);
    });

    it("logs a batch of intents in input order, all or none, and records outcomes with their audit events atomically", async () => {
      const run = await runningRun();
      expect(await acquireStepLease(run.id, "storage", "w", MINUTE)).toBe(true);
      const actorUpn = "admin@contoso.example";
      const items = Array.from({ length: 25 }, (_, i) => ({ key: `k${i}`, kind: "create" as const, target: `t${i}` }));
      const ids = await recordIntents({ runId: run.id, stepId: "storage", actorUpn, leaseOwner: "w", items });
      expect(ids).toHaveLength(25);
      const logged = await listOperations(run.id);
      expect(logged.map((o) => [o.id, o.key, o.status])).toEqual(items.map((item, i) => [ids[i], item.key, "intent"]));
      await expect(recordIntents({ runId: run.id, stepId: "storage", actorUpn, leaseOwner: "other", items })).rejects.toBeInstanceOf(
        LeaseLostError,
      );
      expect(await listOperations(run.id)).toHaveLength(25);
      expect(await recordIntents({ runId: run.id, stepId: "storage", actorUpn, leaseOwner: "w", items: [] })).toEqual([]);

      const audit = (i: number) => ({
        tenantId: run.tenantId,
        runId: run.id,
        actorUpn,
        action: "azure.write",
        target: `t${i}`,
        outcome: "success" as const,
        detail: { i },
      });
      const took = await recordOutcomesWithAudit([
        { intentId: ids[0]!, outcome: { status: "succeeded", resourceId: "/r0" }, audit: audit(0) },
        {
          intentId: ids[1]!,
          outcome: { status: "failed", errorCode: "conflict", errorMessage: "no", requestId: "req-1" },
          audit: { ...audit(1), outcome: "failure" },
        },
        { intentId: "999999999999", outcome: { status: "succeeded" }, audit: audit(2) },
      ]);
      expect(took).toEqual([true, true, false]);
      expect(await recordOutcomesWithAudit([{ intentId: ids[0]!, outcome: { status: "failed" }, audit: audit(3) }])).toEqual([false]); // once
      const after = await listOperations(run.id);
      expect(after[0]).toMatchObject({ status: "succeeded", resourceId: "/r0", errorCode: null });
      expect(after[1]).toMatchObject({ status: "failed", errorCode: "conflict", errorMessage: "no", requestId: "req-1", resourceId: null });
      expect(after[2]!.status).toBe("intent");
      const chain = await listAuditChain({ tenantId: run.tenantId, runId: run.id });
      expect(chain.map((e) => e.target)).toEqual(["t0", "t1", "t2", "t3"]);
      expect(chain.slice(1).every((e, i) => e.prevHash === chain[i]!.hash)).toBe(true);

      // A bad outcome fails the whole batch before anything is written.
      await expect(
        recordOutcomesWithAudit([{ intentId: ids[2]!, outcome: { status: "nope" as "failed" }, audit: audit(4) }]),
      ).rejects.toThrow(TypeError);
      expect((await listOperations(run.id))[2]!.status).toBe("intent");
    });

    it("puts, replaces, gets and deletes a run's sealed secret", async () => {
      const run = await newRun();
      const expiresAt = new Date(Date.now() + 90 * 24 * 60 * MINUTE);
      expect(await getRunSecret(run.id, "client_secret")).toBeNull();
      const put = await putRunSecret({ runId: run.id, kind: "client_secret", ciphertext: "sealed-1", keyId: "k1", hint: "abc", expiresAt });
      expect(put).toMatchObject({ runId: run.id, kind: "client_secret", ciphertext: "sealed-1", keyId: "k1", hint: "abc", expiresAt });
      expect(await getRunSecret(run.id, "client_secret")).toEqual(put);
      expect(await getRunSecret(run.id, "other")).toBeNull();

      await putRunSecret({ runId: run.id, kind: "client_secret", ciphertext: "sealed-2", keyId: "k2", hint: "xyz", expiresAt });
      expect(await getRunSecret(run.id, "client_secret")).toMatchObject({ ciphertext: "sealed-2", keyId: "k2", hint: "xyz" });

      expect(await deleteRunSecret(run.id, "client_secret")).toBe(true);
      expect(await deleteRunSecret(run.id, "client_secret")).toBe(false);
      expect(await getRunSecret(run.id, "client_secret")).toBeNull();

      await putRunSecret({ runId: run.id, kind: "old", ciphertext: "c", keyId: "k1", hint: "h", expiresAt: new Date(Date.now() - 1) });
      expect(await deleteExpiredRunSecrets()).toBeGreaterThanOrEqual(1);
      expect(await getRunSecret(run.id, "old")).toBeNull();
    });
    it("leases two steps of one run to two owners at once, each held and released on its own", async () => {
      const run = await runningRun();
      const [a, b] = await Promise.all([
        acquireLease(stepLease(run.id, "storage"), "a", MINUTE),
        acquireLease(stepLease(run.id, "app-registration"), "b", MINUTE),
      ]);
      expect([a, b]).toEqual([true, true]);
      // Each lease guards only its own step's log.
      await expect(
        recordIntent({ runId: run.id, stepId: "storage", key: "k", kind: "create", target: "t", actorUpn: "a@b", leaseOwner: "b" }),
      ).rejects.toBeInstanceOf(LeaseLostError);
      expect(await renewLease(stepLease(run.id, "app-registration"), "b", MINUTE)).toBe(true);
      expect(await releaseStepLease(run.id, "storage", "a", { status: "done" })).toBe(true);
      expect(await renewLease(stepLease(run.id, "app-registration"), "b", MINUTE)).toBe(true);
      expect(await releaseLease(stepLease(run.id, "app-registration"), "a", "done", [])).toBe(false);
      expect(() => leaseExpiry(Number.POSITIVE_INFINITY)).toThrow(RangeError);
      expect(() => leaseExpiry(25 * 60 * MINUTE)).toThrow(RangeError);
    });

    it("gives an offboarding's lease (created on first use) to exactly one of concurrent acquirers; intents only under it", async () => {
      const run = await runningRun();
      const owners = Array.from({ length: 8 }, (_, i) => `off-${i}`);
      const results = await Promise.all(owners.map((o) => acquireOffboardingLease(run.id, o, `${o}@contoso.example`, MINUTE)));
      expect(results.filter(Boolean)).toHaveLength(1);
      const holder = owners[results.indexOf(true)]!;
      expect(await getOffboarding(run.id)).toMatchObject({
        status: "running",
        leaseOwner: holder,
        attempts: 1,
        startedByUpn: `${holder}@contoso.example`,
      });
      // The holder taking it again (the action, then its background execution) is one attempt.
      expect(await acquireOffboardingLease(run.id, holder, `${holder}@contoso.example`, MINUTE)).toBe(true);
      expect((await getOffboarding(run.id))?.attempts).toBe(1);

      const intent = (owner: string) =>
        recordIntent({
          runId: run.id,
          stepId: "offboarding",
          key: "offboarding.delete:x",
          kind: "delete",
          target: "x",
          actorUpn: "a@b",
          leaseOwner: owner,
        });
      await expect(intent("someone-else")).rejects.toBeInstanceOf(LeaseLostError);
      expect(await intent(holder)).toMatch(/^\d+$/);
      expect(await setOffboardingProgress(run.id, "someone-else", { done: 0, total: 1, label: "x" })).toBe(false);
      expect(await setOffboardingProgress(run.id, holder, { done: 0, total: 1, label: "Removing x" })).toBe(true);

      expect(await releaseOffboardingLease(run.id, holder, { status: "incomplete", result: { items: [] } })).toBe(true);
      await expect(intent(holder)).rejects.toBeInstanceOf(LeaseLostError);
      expect(await getOffboarding(run.id)).toMatchObject({
        status: "incomplete",
        leaseOwner: null,
        leaseExpiresAt: null,
        result: { items: [] },
      });
      expect(await acquireOffboardingLease(run.id, "next", "next@contoso.example", MINUTE)).toBe(true);
      expect(await getOffboarding(run.id)).toMatchObject({
        status: "running",
        attempts: 2,
        progress: null,
        finishedAt: null,
        startedByUpn: "next@contoso.example",
      });
    });

    it("hands a failed or crashed rotation to exactly one resumer; a done one is not resumed, a lost holder writes nothing", async () => {
      const run = await runningRun();
      expect(await setRunStatus(run.id, "completed", { from: ["running"] })).toBe(true);
      const start = (owner: string) =>
        startRotation({ runId: run.id, rotationId: crypto.randomUUID(), mode: "api", old: null, startedByUpn: "a@b", owner, ttlMs: 1_000 });
      expect(await start("first")).toMatchObject({ status: "running", leaseOwner: "first", phase: "started" });
      expect(await start("second")).toBeNull(); // one under way
      expect(await resumeRotation(run.id, "second", MINUTE)).toBeNull(); // live lease
      await sleep(1_100); // the holder crashed: its lease lapses
      const owners = Array.from({ length: 8 }, (_, i) => `rot-${i}`);
      const resumed = await Promise.all(owners.map((o) => resumeRotation(run.id, o, MINUTE)));
      expect(resumed.filter((r) => r !== null)).toHaveLength(1);
      const holder = owners[resumed.findIndex((r) => r !== null)]!;

      const intent = (owner: string) =>
        recordIntent({
          runId: run.id,
          stepId: "credential-rotation",
          key: "rotation.x",
          kind: "create",
          target: "s",
          actorUpn: "a@b",
          leaseOwner: owner,
        });
      await expect(intent("first")).rejects.toBeInstanceOf(LeaseLostError);
      expect(await advanceRotation(run.id, "first", { phase: "created" })).toBe(false);
      expect(await intent(holder)).toMatch(/^\d+$/);
      expect(await advanceRotation(run.id, holder, { phase: "created", new: { keyId: "k2", hint: "ab", expiresAt: null } })).toBe(true);
      expect(await releaseRotation(run.id, holder, { status: "failed", error: { code: "x", message: "y" } })).toBe(true);
      expect(await getRotation(run.id)).toMatchObject({
        status: "failed",
        phase: "created",
        new: { keyId: "k2" },
        error: { code: "x" },
        leaseOwner: null,
      });

      expect(await resumeRotation(run.id, "again", MINUTE)).toMatchObject({ status: "running", leaseOwner: "again", error: null });
      expect(await releaseRotation(run.id, "again", { status: "done" })).toBe(true);
      expect(await resumeRotation(run.id, "late", MINUTE)).toBeNull();
      expect(await acquireLease({ kind: "rotation", runId: run.id }, "late", MINUTE)).toBe(false);
    });
  });
}
