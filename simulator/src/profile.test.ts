// The Azure latency profile: scaling, per-request delays, and ARM's token bucket answering 429 + Retry-After.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningSimulator } from "./index";
import { loadAzureProfile, requestDelayMs, scaledLatency, takeArmToken } from "./profile";
import { SimState } from "./state";
import { simJson, simToken, startTestSimulator } from "./testing";

const OWNER = "owner@contoso.onmicrosoft.com";
const SUB = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const LIMITS = {
  reads: { burst: 3, refillPerSecond: 1 },
  writes: { burst: 2, refillPerSecond: 0.5 },
  deletes: { burst: 2, refillPerSecond: 10 },
};

describe("profile (pure)", () => {
  it("scales waits by timeScale and keeps request latencies", () => {
    const p = loadAzureProfile("simulator/profiles/azure.json");
    const l = scaledLatency(p);
    expect(l.lroMs.storageAccount).toBe(Math.round((p.lroMs.storageAccount ?? 0) * p.timeScale));
    expect(l.replicationMs).toBe(Math.round(p.replicationMs * p.timeScale));
    expect(l.perRequestMs).toEqual({
      armRead: p.requestMs.armRead,
      armWrite: p.requestMs.armWrite,
      graphRead: p.requestMs.graphRead,
      graphWrite: p.requestMs.graphWrite,
    });
    expect(l.armThrottle?.writes).toEqual({ burst: 200, refillPerSecond: 10 });
  });

  it("picks the delay by service and method, falling back to requestMs", () => {
    const base = { requestMs: 7, lroMs: {}, replicationMs: 0 };
    expect(requestDelayMs(base, "arm", "GET")).toBe(7);
    const l = { ...base, perRequestMs: { armRead: 1, armWrite: 2, graphRead: 3, graphWrite: 4 } };
    expect([
      requestDelayMs(l, "arm", "GET"),
      requestDelayMs(l, "arm", "PUT"),
      requestDelayMs(l, "graph", "HEAD"),
      requestDelayMs(l, "graph", "PATCH"),
      requestDelayMs(l, "workbench", "POST"),
    ]).toEqual([1, 2, 3, 4, 7]);
    expect(requestDelayMs(l, "arm", "POST", "/subscriptions/s/providers/Microsoft.Storage/checkNameAvailability")).toBe(1);
  });

  it("empties a bucket after its burst, refills it over time, and keeps principals and operation types apart", () => {
    const state = new SimState(
      {
        tenant: { id: "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc", domain: "x.example", displayName: "X" },
        users: [],
        servicePrincipals: [],
        extraTenants: [],
        subscriptions: [],
        takenStorageAccountNames: [],
        policyAssignments: [],
        locks: [],
      },
      "https://sim",
      "https://blob",
    );
    const key = { scope: SUB, principal: "p1", method: "PUT" };
    expect(takeArmToken(state, LIMITS, key, 0)).toMatchObject({ ok: true, remaining: 1 });
    expect(takeArmToken(state, LIMITS, key, 0)).toMatchObject({ ok: true, remaining: 0 });
    expect(takeArmToken(state, LIMITS, key, 0)).toEqual({ ok: false, retryAfterSeconds: 2, op: "writes" });
    expect(takeArmToken(state, LIMITS, { ...key, principal: "p2" }, 0)).toMatchObject({ ok: true });
    expect(takeArmToken(state, LIMITS, { ...key, method: "GET" }, 0)).toMatchObject({ ok: true, op: "reads" });
    expect(takeArmToken(state, LIMITS, key, 1000)).toMatchObject({ ok: false, retryAfterSeconds: 1 });
    expect(takeArmToken(state, LIMITS, key, 2000)).toMatchObject({ ok: true, remaining: 0 });
  });
});

describe("profile (simulator)", () => {
  let sim: RunningSimulator;
  let arm: string;
  beforeAll(async () => {
    sim = await startTestSimulator();
    arm = await simToken(sim, { upn: OWNER, resource: "arm" });
  });
  afterAll(async () => {
    await sim?.close();
  });
  beforeEach(async () => {
    await simJson(sim, "POST", "/_sim/reset");
  });

  const putGroup = (name: string) =>
    simJson(sim, "PUT", `/subscriptions/${SUB}/resourcegroups/${name}?api-version=2025-04-01`, {
      token: arm,
      body: { location: "eastus" },
    });

  it("answers 429 with Retry-After once the subscription's write bucket is empty, and logs it", async () => {
    expect((await simJson(sim, "POST", "/_sim/latency", { body: { armThrottle: LIMITS } })).status).toBe(200);
    const first = await putGroup("rg-a");
    expect(first.status).toBe(201);
    expect(first.headers.get("x-ms-ratelimit-remaining-subscription-writes")).toBe("1");
    expect((await putGroup("rg-b")).status).toBe(201);
    const throttled = await putGroup("rg-c");
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(throttled.body.error.code).toBe("SubscriptionRequestsThrottled");
    // Reads have their own bucket; the throttled write had no effect.
    const get = await simJson(sim, "GET", `/subscriptions/${SUB}/resourcegroups/rg-c?api-version=2025-04-01`, { token: arm });
    expect(get.status).toBe(404);
    const log = (await simJson(sim, "GET", "/_sim/requests")).body as { method: string; status: number }[];
    expect(log.filter((r) => r.method === "PUT").map((r) => r.status)).toEqual([201, 201, 429]);
  });

  it("delays ARM writes by the profile's armWrite and reads by armRead", async () => {
    await simJson(sim, "POST", "/_sim/latency", { body: { perRequestMs: { armRead: 0, armWrite: 300, graphRead: 0, graphWrite: 0 } } });
    let t = Date.now();
    await simJson(sim, "GET", `/subscriptions/${SUB}/resourcegroups?api-version=2025-04-01`, { token: arm });
    const read = Date.now() - t;
    t = Date.now();
    await putGroup("rg-d");
    const write = Date.now() - t;
    expect(write).toBeGreaterThanOrEqual(290);
    expect(read).toBeLessThan(write);
  });
});
