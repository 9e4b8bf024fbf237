import { createHttpHeaders, createPipelineRequest, RestError } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import { AzureOperationError, toAzureError } from "@/lib/azure/errors";
import { RequestTimeoutError } from "@/lib/azure/timeouts";
import { classifyFailure, DatabaseError, DEFAULT_POLICY, INTERRUPTED, retryAfterOf } from "./policy";

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
