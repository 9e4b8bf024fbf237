import { createHttpHeaders, createPipelineRequest, RestError } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import { AzureOperationError, toAzureError } from "@/lib/azure/errors";
import { RequestTimeoutError } from "@/lib/azure/timeouts";
import {
  classifyFailure,
  DatabaseError,
  DEFAULT_POLICY,
  INTERRUPTED,
  retryAfterOf,
  retryBudget,
  retryLabel,
  withRetries,
  type Classified,
} from "./policy";

const ctx = { action: "create the storage account", createdRecently: false };

function armError(status: number, code: string, headers: Record<string, string>) {
  const request = createPipelineRequest({ url: "https://management.azure.com/subscriptions/s" });
  return new RestError("raw", { statusCode: status, code, request, response: { headers: createHttpHeaders(headers), request, status } });
}

describe("classifyFailure: Retry-After", () => {
  it("takes retryAfterMs from the AzureOperationError lib/azure throws", () => {
    const wrapped = toAzureError(armError(429, "SubscriptionRequestsThrottled", { "retry-after": "7" }), { action: "create the account" });
    expect(wrapped.retryAfterMs).toBe(7000);
    expect(classifyFailure(wrapped, ctx)).toMatchObject({ kind: "transient", error: { code: "throttled" }, retryAfterMs: 7000 });
  });

  it.each([
    [{ "retry-after-ms": "1200" }, 1200],
    [{ "x-ms-retry-after-ms": "800" }, 800],
    [{ "retry-after": "3" }, 3000],
  ] as const)("reads %j from a raw RestError that reaches the engine unwrapped", (headers, expected) => {
    expect(classifyFailure(armError(503, "ServiceUnavailable", headers), ctx)).toMatchObject({ kind: "transient", retryAfterMs: expected });
  });

  it("retryAfterOf finds it on a cause, e.g. a step that wrapped the lib/azure error", () => {
    const inner = new AzureOperationError("throttled", "Azure is throttling requests.", "TooManyRequests", 429, undefined, 2000);
    const outer = new Error("step failed", { cause: inner });
    expect(retryAfterOf(outer)).toBe(2000);
    expect(
      retryAfterOf(new Error("a", { cause: new Error("b", { cause: armError(429, "TooManyRequests", { "retry-after": "4" }) }) })),
    ).toBe(4000);
    expect(retryAfterOf(new Error("no hint", { cause: "text" }))).toBeUndefined();
  });

  it("leaves it out when Azure sent none (the engine then backs off exponentially)", () => {
    const c = classifyFailure(new AzureOperationError("throttled", "Azure is throttling requests."), ctx);
    expect(c.kind).toBe("transient");
    expect(c).not.toHaveProperty("retryAfterMs");
    expect(classifyFailure(armError(429, "TooManyRequests", { "retry-after": "later" }), ctx)).not.toHaveProperty("retryAfterMs");
  });

  it("ignores Retry-After on errors that are not retried", () => {
    expect(classifyFailure(armError(400, "InvalidRequestContent", { "retry-after": "5" }), ctx)).toMatchObject({
      kind: "permanent",
      status: "failed",
    });
  });

  it("passes a long Retry-After through for the engine to cut to retryAfterMaxMs", () => {
    const c = classifyFailure(armError(429, "TooManyRequests", { "retry-after": "300" }), ctx);
    expect(c).toMatchObject({ kind: "transient", retryAfterMs: 300_000 });
    expect(DEFAULT_POLICY.retryAfterMaxMs).toBeLessThan(300_000);
  });
});

describe("classifyFailure: timeouts and the portal's database", () => {
  it("retries a request that got no answer in time, as transient, with the timeout's text", () => {
    const c = classifyFailure(toAzureError(new RequestTimeoutError("Azure", 30_000), { action: "create the storage account" }), ctx);
    expect(c).toMatchObject({
      kind: "transient",
      error: {
        code: "timeout",
        message: expect.stringMatching(/^Azure did not answer within 30 s, so the portal could not create the storage account\./),
      },
    });
  });

  it("makes a database failure under a step (even wrapped by it) an interruption, never the step's failure", () => {
    const db = new DatabaseError(new Error("Connection terminated unexpectedly"));
    expect(classifyFailure(db, ctx)).toEqual({ kind: "interrupted", error: INTERRUPTED });
    expect(classifyFailure(new Error("step failed", { cause: db }), ctx)).toEqual({ kind: "interrupted", error: INTERRUPTED });
    expect(classifyFailure(new Error("Connection terminated unexpectedly"), ctx)).toMatchObject({ kind: "permanent" });
  });
});

describe("the retry policy every job shares", () => {
  const policy = {
    ...DEFAULT_POLICY,
    transientAttempts: 3,
    transientBaseDelayMs: 100,
    transientMaxDelayMs: 300,
    retryAfterMaxMs: 5_000,
    replicationBudgetMs: 10_000,
    replicationBaseDelayMs: 1_000,
    replicationMaxDelayMs: 4_000,
  };
  const transient: Classified = { kind: "transient", error: { code: "unavailable", message: "x" } };
  const replication: Classified = { kind: "replication", error: { code: "not_found", message: "x" } };

  it("backs off transient failures until the attempt budget (first try included) is spent; database failures count with them", () => {
    const budget = retryBudget(policy);
    expect(budget.next(transient)).toBe(100);
    expect(budget.next({ kind: "interrupted", error: INTERRUPTED })).toBe(200);
    expect(budget.next(transient)).toBeNull();
    budget.reset(); // the work got further: a fresh allowance
    expect(budget.next(transient)).toBe(100);
  });

  it("honours Retry-After up to its cap, and never retries lease loss, sign-in or permanent failures", () => {
    const budget = retryBudget(policy);
    expect(budget.next({ ...transient, retryAfterMs: 2_000 })).toBe(2_000);
    expect(budget.next({ ...transient, retryAfterMs: 60_000 })).toBe(5_000);
    expect(budget.next({ kind: "lease_lost" })).toBeNull();
    expect(budget.next({ kind: "reauth", error: { code: "reauth_required", message: "x" } })).toBeNull();
    expect(budget.next({ kind: "permanent", status: "failed", error: { code: "x", message: "x" } })).toBeNull();
  });

  it("spends replication waits from one time budget on the job's clock", () => {
    let now = 0;
    const budget = retryBudget(policy, () => now);
    const waits: number[] = [];
    for (let delay = budget.next(replication); delay !== null; delay = budget.next(replication)) {
      waits.push(delay);
      now += delay;
    }
    expect(waits).toEqual([1_000, 2_000, 4_000]);
    expect(now).toBeLessThanOrEqual(policy.replicationBudgetMs);
    expect(retryLabel(replication, 4_000)).toBe("Waiting for Azure to replicate the new objects; retrying in 4 s");
  });

  it("withRetries tries again while the budget lasts and rethrows the last failure as it was", async () => {
    const slept: number[] = [];
    let calls = 0;
    const throttled = new AzureOperationError("throttled", "Azure is throttling requests.", "TooManyRequests", 429);
    const classify = (e: unknown) => classifyFailure(e, ctx);
    await expect(
      withRetries(
        () => {
          calls += 1;
          return Promise.reject(throttled);
        },
        { policy, classify, sleep: async (ms) => void slept.push(ms) },
      ),
    ).rejects.toBe(throttled);
    expect([calls, slept]).toEqual([3, [100, 200]]);

    calls = 0;
    const value = await withRetries(() => (++calls < 2 ? Promise.reject(throttled) : Promise.resolve("ok")), {
      policy,
      classify,
      sleep: async () => {},
    });
    expect([value, calls]).toEqual(["ok", 2]);
    // Planning retries only transient failures.
    const lag = new AzureOperationError("principal_not_found", "Not replicated yet.", "PrincipalNotFound", 400);
    calls = 0;
    await expect(
      withRetries(() => (++calls, Promise.reject(lag)), { policy, classify, sleep: async () => {}, only: ["transient"] }),
    ).rejects.toBe(lag);
    expect(calls).toBe(1);
  });

  it("classifies a role still in use as replication only right after this execution's deletes, and lets a job add its own cases", () => {
    const inUse = new AzureOperationError(
      "role_definition_in_use",
      "The custom role is still assigned.",
      "RoleDefinitionHasAssignments",
      409,
    );
    expect(classifyFailure(inUse, ctx)).toMatchObject({ kind: "permanent", status: "failed" });
    expect(classifyFailure(inUse, { ...ctx, deletedRecently: true })).toMatchObject({ kind: "replication" });
    const special = (e: unknown): Classified | undefined =>
      e instanceof RangeError ? { kind: "permanent", status: "failed", error: { code: "not_empty", message: e.message } } : undefined;
    expect(classifyFailure(new RangeError("kept"), { ...ctx, special })).toMatchObject({ error: { code: "not_empty" } });
    expect(classifyFailure(new DatabaseError(new Error("down")), { ...ctx, special })).toMatchObject({ kind: "interrupted" });
  });
});
