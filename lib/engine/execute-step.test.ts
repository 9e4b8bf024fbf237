import { describe, expect, it } from "vitest";
import { AzureOperationError, toAzureError } from "@/lib/azure/errors";
import { acquireStepLease, getRunForTenant, listAuditEvents, listOperations } from "@/lib/db";
import { db } from "@/lib/db/client";
import type { StepModule } from "@/lib/steps/types";
import { buildStepContext, PROGRESS_INTERVAL_MS } from "./context";
import { executeStep } from "./execute-step";
import {
  ACTOR,
  FakeAzure,
  fakeModules,
  fakeStep,
  fakeTime,
  okTokens,
  realSleep,
  runningRun,
  testConfig,
  setupEngineDb,
} from "@/test/support/engine";

setupEngineDb("execute");

const base = (run: { id: string; tenantId: string }) => ({ runId: run.id, tenantId: run.tenantId, actor: ACTOR, tokens: okTokens });

async function stepRow(run: { id: string; tenantId: string }, stepId: string) {
  const loaded = await getRunForTenant(run.id, run.tenantId);
  return loaded?.steps.find((s) => s.stepId === stepId);
}

describe("executeStep", () => {
  it("records the intent before the write and the outcome after, stores outputs, seals secrets and audits", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    const seenDuringWrite: string[] = [];
    const storage = fakeStep("storage", azure, {
      afterCreate: async () => {
        seenDuringWrite.push(...(await listOperations(run.id)).map((o) => o.status));
      },
      beforeWrite: async (ctx) => {
        await ctx.progress({ done: 0, total: 1, label: "Creating" });
        await ctx.secrets.put("client_secret", "s3cr3t-value", {
          keyId: "kid-1",
          hint: "s3c",
          expiresAt: new Date(Date.now() + 86_400_000),
        });
        expect(await ctx.secrets.get("client_secret")).toMatchObject({ value: "s3cr3t-value", keyId: "kid-1", hint: "s3c" });
      },
    });

    const result = await executeStep({ ...base(run), stepId: "storage", modules: fakeModules(azure, { storage }) });

    expect(result).toEqual({ ok: true, outputs: { resourceId: "/fake/storage-res", upstream: [] } });
    expect(seenDuringWrite).toEqual(["intent"]);
    const ops = await listOperations(run.id);
    expect(ops).toHaveLength(1);
    expect(ops[0]).toMatchObject({
      stepId: "storage",
      key: "storage.create:storage-res",
      kind: "create",
      status: "succeeded",
      resourceId: "/fake/storage-res",
      actorUpn: ACTOR.upn,
    });
    expect(await stepRow(run, "storage")).toMatchObject({
      status: "done",
      outputs: { resourceId: "/fake/storage-res" },
      error: null,
      leaseOwner: null,
      progress: { label: "Creating" },
    });

    const prisma = await db();
    const sealed = await prisma.runSecret.findUnique({ where: { runId_kind: { runId: run.id, kind: "client_secret" } } });
    expect(sealed?.ciphertext).toBeDefined();
    expect(sealed?.ciphertext).not.toContain("s3cr3t");

    const audit = await listAuditEvents(run.tenantId, { limit: 10 });
    expect(audit.map((e) => [e.action, e.outcome, e.target])).toEqual([
      ["step.done", "success", "storage"],
      ["azure.write", "success", "storage-res"],
    ]);
    expect(JSON.stringify(audit)).not.toContain("s3cr3t");
    expect(audit[1]).toMatchObject({
      runId: run.id,
      detail: { kind: "create", key: "storage.create:storage-res", resourceId: "/fake/storage-res" },
    });
    expect(audit[0]?.runId).toBe(run.id);

    // The next step sees this one's outputs.
    const next = await executeStep({ ...base(run), stepId: "diagnostic-settings", modules: fakeModules(azure) });
    expect(next).toMatchObject({ ok: true, outputs: { upstream: ["storage"] } });
  });

  it("re-running a step whose resources exist writes nothing; a done step is not run again", async () => {
    const azure = new FakeAzure();
    const first = await runningRun();
    expect(await executeStep({ ...base(first), stepId: "storage", modules: fakeModules(azure) })).toMatchObject({ ok: true });
    expect(azure.creates).toBe(1);

    const second = await runningRun(first.tenantId);
    expect(await executeStep({ ...base(second), stepId: "storage", modules: fakeModules(azure) })).toMatchObject({
      ok: true,
      outputs: { resourceId: "/fake/storage-res" },
    });
    expect(await executeStep({ ...base(second), stepId: "storage", modules: fakeModules(azure) })).toMatchObject({
      ok: true,
      alreadyDone: true,
    });
    expect(azure.creates).toBe(1);
    expect(await listOperations(second.id)).toEqual([]);
  });

  it("refuses a step of another tenant, a step before the steps it needs, and a run that isn't running", async () => {
    const run = await runningRun();
    const modules = fakeModules(new FakeAzure());
    expect(await executeStep({ ...base(run), tenantId: "someone-else", stepId: "storage", modules })).toMatchObject({
      ok: false,
      code: "not_found",
    });
    expect(await executeStep({ ...base(run), stepId: "role-assignments", modules })).toMatchObject({ ok: false, code: "blocked" });
    const prisma = await db();
    await prisma.onboardingRun.update({ where: { id: run.id }, data: { status: "cancelled" } });
    expect(await executeStep({ ...base(run), stepId: "storage", modules })).toMatchObject({ ok: false, code: "not_running" });
    expect(await listOperations(run.id)).toEqual([]);
  });

  it("writes per-item progress at most once per interval, but always the first and the last", async () => {
    const run = await runningRun();
    const owner = "progress-test:1";
    expect(await acquireStepLease(run.id, "storage", owner, 60_000)).toBe(true);
    const loaded = await getRunForTenant(run.id, run.tenantId);
    const { ctx } = buildStepContext({
      runId: run.id,
      tenantId: run.tenantId,
      stepId: "storage",
      actor: ACTOR,
      config: testConfig(),
      tokens: okTokens,
      leaseOwner: owner,
      steps: loaded?.steps ?? [],
    });
    await ctx.progress({ done: 1, total: 400, label: "Cluster 1" });
    for (let i = 2; i < 400; i++) await ctx.progress({ done: i, total: 400, label: `Cluster ${i}` });
    // Within the interval after the first write, the row keeps the first update.
    expect((await stepRow(run, "storage"))?.progress).toMatchObject({ done: 1 });
    await ctx.progress({ done: 400, total: 400, label: "All clusters" });
    expect((await stepRow(run, "storage"))?.progress).toMatchObject({ done: 400, label: "All clusters" });
    // The skipped updates' trailing write was dropped by the final one: nothing older lands afterwards.
    await new Promise((r) => setTimeout(r, PROGRESS_INTERVAL_MS + 200));
    expect((await stepRow(run, "storage"))?.progress).toMatchObject({ done: 400, label: "All clusters" });
  });

  it("writes the latest skipped progress at the interval's end, so a step that pauses doesn't show stale progress", async () => {
    const run = await runningRun();
    const owner = "progress-test:2";
    expect(await acquireStepLease(run.id, "storage", owner, 60_000)).toBe(true);
    const loaded = await getRunForTenant(run.id, run.tenantId);
    const { ctx } = buildStepContext({
      runId: run.id,
      tenantId: run.tenantId,
      stepId: "storage",
      actor: ACTOR,
      config: testConfig(),
      tokens: okTokens,
      leaseOwner: owner,
      steps: loaded?.steps ?? [],
    });
    await ctx.progress({ done: 1, total: 4, label: "1 of 4" });
    await ctx.progress({ done: 2, total: 4, label: "2 of 4" });
    await ctx.progress({ done: 3, total: 4, label: "3 of 4" });
    expect((await stepRow(run, "storage"))?.progress).toMatchObject({ done: 1 });
    await expect
      .poll(async () => (await stepRow(run, "storage"))?.progress, { timeout: PROGRESS_INTERVAL_MS * 4 })
      .toMatchObject({ done: 3, label: "3 of 4" });
  });

  it("resumes after a crash between a remote write and its outcome without creating a duplicate", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    // The crashed execution: it holds a short lease, logs its intent, creates the resource, then the process dies
    // (the write never returns, no heartbeat renews, nothing is released).
    const crashed = "crashed-instance:1";
    const leaseMs = 1_000;
    const acquiredAt = Date.now();
    expect(await acquireStepLease(run.id, "storage", crashed, leaseMs)).toBe(true);
    const loaded = await getRunForTenant(run.id, run.tenantId);
    const { ctx } = buildStepContext({
      runId: run.id,
      tenantId: run.tenantId,
      stepId: "storage",
      actor: ACTOR,
      config: testConfig(),
      tokens: okTokens,
      leaseOwner: crashed,
      steps: loaded?.steps ?? [],
    });
    const dying = fakeStep("storage", azure, { afterCreate: () => new Promise<void>(() => undefined) });
    void dying.apply(ctx, { existing: null });
    for (let i = 0; i < 50 && azure.creates === 0; i++) await realSleep(10);
    expect(azure.creates).toBe(1);
    expect((await listOperations(run.id)).map((o) => o.status)).toEqual(["intent"]);

    // While the lease is live, nobody else may start.
    expect(await executeStep({ ...base(run), stepId: "storage", modules: fakeModules(azure) })).toMatchObject({ ok: false, code: "busy" });
    await realSleep(acquiredAt + leaseMs + 100 - Date.now());

    const resumed = await executeStep({ ...base(run), stepId: "storage", modules: fakeModules(azure) });
    expect(resumed).toEqual({ ok: true, outputs: { resourceId: "/fake/storage-res", upstream: [] } });
    expect(azure.creates).toBe(1);
    expect(azure.resources.size).toBe(1);
    // The interrupted write stays visible as an intent; the resume made no write of its own.
    expect((await listOperations(run.id)).map((o) => o.status)).toEqual(["intent"]);
    expect(await stepRow(run, "storage")).toMatchObject({ status: "done", attempts: 2 });
  });

  it("lets exactly one of two concurrent executions run a step", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    const modules = fakeModules(azure, { storage: fakeStep("storage", azure, { beforeWrite: () => realSleep(200) }) });
    const results = await Promise.all([
      executeStep({ ...base(run), stepId: "storage", modules }),
      executeStep({ ...base(run), stepId: "storage", modules }),
    ]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.code === "busy")).toHaveLength(1);
    expect(azure.creates).toBe(1);
    expect(await stepRow(run, "storage")).toMatchObject({ status: "done", attempts: 1 });
  });

  it("retries transient errors with exponential backoff, honours Retry-After, and gives up after the attempt limit", async () => {
    const azure = new FakeAzure();
    const throttled = () => new AzureOperationError("throttled", "Azure is throttling requests.");
    let failures = 2;
    const time = fakeTime();
    const flaky = fakeStep("storage", azure, {
      beforeWrite: () => {
        if (failures-- > 0) throw throttled();
      },
    });
    const run = await runningRun();
    expect(await executeStep({ ...base(run), stepId: "storage", modules: fakeModules(azure, { storage: flaky }), ...time })).toMatchObject({
      ok: true,
    });
    expect(time.sleeps).toEqual([1_000, 2_000]);

    // A raw SDK 429 with Retry-After: 7 seconds.
    const raw = Object.assign(new Error("Too many requests"), {
      statusCode: 429,
      response: { headers: { get: (n: string) => (n === "retry-after" ? "7" : undefined) } },
    });
    let rawFailures = 1;
    const time2 = fakeTime();
    const azure2 = new FakeAzure();
    const rawFlaky = fakeStep("storage", azure2, {
      onRead: () => {
        if (rawFailures-- > 0) throw raw;
      },
    });
    const run2 = await runningRun();
    expect(
      await executeStep({ ...base(run2), stepId: "storage", modules: fakeModules(azure2, { storage: rawFlaky }), ...time2 }),
    ).toMatchObject({ ok: true });
    expect(time2.sleeps).toEqual([7_000]);

    const time3 = fakeTime();
    const always = fakeStep("storage", new FakeAzure(), { onRead: () => Promise.reject(throttled()) });
    const run3 = await runningRun();
    const result = await executeStep({ ...base(run3), stepId: "storage", modules: fakeModules(azure, { storage: always }), ...time3 });
    expect(result).toMatchObject({ ok: false, code: "throttled", status: "failed" });
    expect(time3.sleeps).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it("gives a step that got further before failing again a fresh retry allowance", async () => {
    const azure = new FakeAzure();
    const names = Array.from({ length: 7 }, (_, i) => `cluster-${i}`);
    // Throttled after every write: more failures than transientAttempts, but each attempt makes progress.
    const manyWrites: StepModule<string[], string[]> = {
      id: "storage",
      read: () => Promise.resolve(names.filter((n) => !azure.resources.has(n))),
      plan: () => [],
      async apply(ctx, missing) {
        for (const name of missing) {
          await ctx.write({ key: `storage.create:${name}`, kind: "create", target: name }, () => Promise.resolve(azure.create(name)));
          if (azure.resources.size < names.length) throw new AzureOperationError("throttled", "Azure is throttling requests.");
        }
        return names;
      },
      verify: () => Promise.resolve({ ok: true, checks: [] }),
    };
    const time = fakeTime();
    const run = await runningRun();
    expect(
      await executeStep({ ...base(run), stepId: "storage", modules: fakeModules(azure, { storage: manyWrites }), ...time }),
    ).toMatchObject({ ok: true });
    expect(time.sleeps).toEqual(Array.from({ length: 6 }, () => 1_000));
    expect(azure.creates).toBe(7);
  });

  it("re-reads and re-applies on replication errors until they clear, within a time budget", async () => {
    const azure = new FakeAzure();
    let reads = 0;
    let failures = 3;
    const time = fakeTime();
    const lagging = fakeStep("storage", azure, {
      onRead: () => {
        reads += 1;
      },
      beforeWrite: () => {
        if (failures-- > 0)
          throw toAzureError(
            { statusCode: 400, code: "PrincipalNotFound", message: "Principal x does not exist in the directory" },
            { action: "assign the role" },
          );
      },
    });
    const run = await runningRun();
    expect(
      await executeStep({ ...base(run), stepId: "storage", modules: fakeModules(azure, { storage: lagging }), ...time }),
    ).toMatchObject({ ok: true });
    expect(reads).toBe(4);
    expect(time.sleeps).toEqual([2_000, 4_000, 8_000]);
    expect(azure.creates).toBe(1);

    // Graph's 404 right after this execution created something is replication lag too.
    const azure2 = new FakeAzure();
    let graphLag = 1;
    const time2 = fakeTime();
    const createThenPatch = fakeStep("storage", azure2, {
      onRead: () => {
        if (azure2.creates > 0 && graphLag-- > 0)
          throw toAzureError(
            { statusCode: 404, code: "Request_ResourceNotFound", message: "Resource does not exist" },
            { action: "update the app" },
          );
      },
    });
    const run2 = await runningRun();
    const flakyVerify = {
      ...createThenPatch,
      verify: async () => (graphLag === 1 ? { ok: false as const, reason: "not yet" } : { ok: true as const, checks: [] }),
    };
    expect(
      await executeStep({ ...base(run2), stepId: "storage", modules: fakeModules(azure2, { storage: flakyVerify }), ...time2 }),
    ).toMatchObject({ ok: true });
    expect(time2.sleeps).toEqual([2_000, 2_000]);

    const time3 = fakeTime();
    const never = fakeStep("storage", new FakeAzure(), {
      onRead: () =>
        Promise.reject(
          new AzureOperationError("application_not_replicated", "Entra ID has not finished replicating the new app registration."),
        ),
    });
    const run3 = await runningRun();
    const result = await executeStep({
      ...base(run3),
      stepId: "storage",
      modules: fakeModules(azure, { storage: never }),
      ...time3,
      policy: { replicationBudgetMs: 60_000 },
    });
    expect(result).toMatchObject({ ok: false, code: "application_not_replicated", status: "failed" });
    expect(time3.sleeps).toEqual([2_000, 4_000, 8_000, 16_000, 30_000]);
    expect(time3.sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(60_000);
  });

  it("lets a step wait out replication in place on the same backoff, sharing the execution's replication budget", async () => {
    const azure = new FakeAzure();
    let reads = 0;
    const answers: boolean[] = [];
    const inStep = fakeStep("storage", azure, {
      onRead: () => {
        reads += 1;
      },
      beforeWrite: async (ctx) => {
        if (!ctx.waitForReplication) throw new Error("the engine's context offers no in-step wait");
        for (let retry = 1; retry <= 3; retry++) answers.push(await ctx.waitForReplication(retry));
      },
    });
    const time = fakeTime();
    const run = await runningRun();
    expect(await executeStep({ ...base(run), stepId: "storage", modules: fakeModules(azure, { storage: inStep }), ...time })).toMatchObject(
      { ok: true },
    );
    expect([reads, answers, time.sleeps]).toEqual([1, [true, true, true], [2_000, 4_000, 8_000]]);

    // Past the budget the wait refuses (without sleeping), and the step's own retries draw on what the in-step waits spent.
    const answers2: boolean[] = [];
    const spender = fakeStep("storage", new FakeAzure(), {
      beforeWrite: async (ctx) => {
        for (let retry = 1; retry <= 4; retry++) answers2.push((await ctx.waitForReplication?.(retry)) ?? false);
        throw new AzureOperationError("application_not_replicated", "Entra ID has not finished replicating the new app registration.");
      },
    });
    const time2 = fakeTime();
    const run2 = await runningRun();
    const result = await executeStep({
      ...base(run2),
      stepId: "storage",
      modules: fakeModules(azure, { storage: spender }),
      ...time2,
      policy: { replicationBudgetMs: 10_000 },
    });
    expect(result).toMatchObject({ ok: false, code: "application_not_replicated", status: "failed" });
    // Attempt 1: in-step 2 s + 4 s, then refused; the engine's retry (2 s) and attempt 2's in-step 2 s fill the 10 s exactly.
    expect(answers2).toEqual([true, true, false, false, true, false, false, false]);
    expect(time2.sleeps).toEqual([2_000, 4_000, 2_000, 2_000]);
  });

  it("needs an admin on forbidden (with the role, in plain words) and fails on other permanent errors", async () => {
    const forbidden = toAzureError(
      { statusCode: 403, code: "AuthorizationFailed", message: '{"error":{"code":"AuthorizationFailed","message":"raw"}}' },
      {
        action: "assign the role to the vendor's service principal",
        requiredRole: "Owner or User Access Administrator",
        whoCanGrant: "an Owner of Contoso Production",
      },
    );
    const run = await runningRun();
    const denied = fakeStep("storage", new FakeAzure(), { onRead: () => Promise.reject(forbidden) });
    const result = await executeStep({
      ...base(run),
      stepId: "storage",
      modules: fakeModules(new FakeAzure(), { storage: denied }),
      ...fakeTime(),
    });
    expect(result).toMatchObject({
      ok: false,
      code: "forbidden",
      status: "needs_admin",
      error: { code: "forbidden", requiredRole: "Owner or User Access Administrator", whoCanAct: "an Owner of Contoso Production" },
    });
    const row = await stepRow(run, "storage");
    expect(row).toMatchObject({ status: "needs_admin", error: { code: "forbidden", requiredRole: "Owner or User Access Administrator" } });
    expect(row?.error?.message).toContain("You don't have permission to assign the role");
    expect(row?.error?.message).not.toMatch(/raw|"error"/);
    expect((await listAuditEvents(run.tenantId, { limit: 1 }))[0]).toMatchObject({ action: "step.failed", outcome: "denied" });

    const run2 = await runningRun();
    const taken = fakeStep("storage", new FakeAzure(), {
      beforeWrite: () =>
        Promise.reject(
          toAzureError({ statusCode: 409, code: "StorageAccountAlreadyTaken", message: "taken" }, { action: "create the storage account" }),
        ),
    });
    const time = fakeTime();
    expect(
      await executeStep({ ...base(run2), stepId: "storage", modules: fakeModules(new FakeAzure(), { storage: taken }), ...time }),
    ).toMatchObject({ ok: false, code: "name_taken", status: "failed" });
    expect(time.sleeps).toEqual([]);
    expect(await stepRow(run2, "storage")).toMatchObject({ status: "failed", error: { code: "name_taken" }, outputs: null });

    // A permanent error may carry what the step did finish; it is stored with the failure.
    const run3 = await runningRun();
    const blocked = Object.assign(new AzureOperationError("diagnostic_settings_limit", "Cluster aks2 already has 5 diagnostic settings."), {
      output: { settings: ["aks1"], blocked: ["aks2"] },
    });
    const partial = fakeStep("storage", new FakeAzure(), { beforeWrite: () => Promise.reject(blocked) });
    expect(
      await executeStep({ ...base(run3), stepId: "storage", modules: fakeModules(new FakeAzure(), { storage: partial }), ...fakeTime() }),
    ).toMatchObject({ ok: false, code: "diagnostic_settings_limit", status: "failed" });
    expect(await stepRow(run3, "storage")).toMatchObject({
      status: "failed",
      outputs: { settings: ["aks1"], blocked: ["aks2"] },
      error: { message: "Cluster aks2 already has 5 diagnostic settings." },
    });
    expect((await listAuditEvents(run2.tenantId, { limit: 1 }))[0]).toMatchObject({ action: "step.failed", outcome: "failure" });

    // A write Azure refused is audited with the operation, its target and Azure's request id.
    const run4 = await runningRun();
    const refused = toAzureError(
      { statusCode: 409, code: "StorageAccountAlreadyTaken", message: "taken", request: { requestId: "req-409" } },
      { action: "create the storage account" },
    );
    const inWrite = fakeStep("storage", new FakeAzure(), { afterCreate: () => Promise.reject(refused) });
    await executeStep({ ...base(run4), stepId: "storage", modules: fakeModules(new FakeAzure(), { storage: inWrite }), ...fakeTime() });
    const failedWrite = (await listAuditEvents(run4.tenantId, { limit: 10 })).find((e) => e.action === "azure.write");
    expect(failedWrite).toMatchObject({
      runId: run4.id,
      outcome: "failure",
      target: "storage-res",
      detail: { kind: "create", errorCode: "name_taken", requestId: "req-409" },
    });
  });

  it("hands the step back, untouched, when the admin's sign-in has expired", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    const needsToken = fakeStep("storage", azure, {
      onRead: async (ctx) => {
        // An SDK wraps what getToken throws; the engine still recognises the expired sign-in.
        await ctx.arm.getToken("https://management.azure.com/.default").catch(() => {
          throw new Error("wrapped by the SDK");
        });
      },
    });
    const tokens = () =>
      Promise.resolve({
        ok: false as const,
        code: "reauth_required",
        message: "Your Microsoft sign-in has expired. Sign in again to continue.",
      });
    const result = await executeStep({ ...base(run), tokens, stepId: "storage", modules: fakeModules(azure, { storage: needsToken }) });
    expect(result).toMatchObject({ ok: false, code: "reauth_required", status: "pending" });
    expect(await stepRow(run, "storage")).toMatchObject({ status: "pending", leaseOwner: null, error: { code: "reauth_required" } });
    expect(azure.creates).toBe(0);
  });

  it("keeps a long step's lease alive with the heartbeat", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    const slow = fakeStep("storage", azure, { beforeWrite: () => realSleep(4_000) });
    const modules = fakeModules(azure, { storage: slow });
    // A renewal every 500 ms: a busy machine may delay one by most of a lease length without losing the lease.
    const policy = { leaseTtlMs: 1_500 };
    const long = executeStep({ ...base(run), stepId: "storage", modules, policy });
    await realSleep(3_200); // more than two lease lengths
    expect(await executeStep({ ...base(run), stepId: "storage", modules, policy })).toMatchObject({ ok: false, code: "busy" });
    expect(await long).toMatchObject({ ok: true });
    expect(await stepRow(run, "storage")).toMatchObject({ status: "done", attempts: 1 });
    expect(azure.creates).toBe(1);
  });
});
