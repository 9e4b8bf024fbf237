// retryAfterSeconds: the Retry-After of injected 429/503 answers (default 1 s, as Azure's shortest).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "./index";
import { simJson, simToken, startTestSimulator } from "./testing";

const SUB = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
let sim: RunningSimulator;
let arm: string;

beforeAll(async () => {
  sim = await startTestSimulator();
  arm = await simToken(sim, { upn: "owner@contoso.onmicrosoft.com", resource: "arm" });
});
afterAll(async () => {
  await sim?.close();
});

const read = () => simJson(sim, "GET", `/subscriptions/${SUB}/resourcegroups?api-version=2025-04-01`, { token: arm });

describe("fault Retry-After", () => {
  it("defaults to 1 s and follows retryAfterSeconds", async () => {
    await simJson(sim, "POST", "/_sim/faults", { body: { rate: 1, kinds: ["429"] } });
    const first = await read();
    expect(first.status).toBe(429);
    expect(first.headers.get("retry-after")).toBe("1");
    await simJson(sim, "POST", "/_sim/faults", { body: { rate: 1, kinds: ["503"], retryAfterSeconds: 0 } });
    const second = await read();
    expect(second.status).toBe(503);
    expect(second.headers.get("retry-after")).toBe("0");
    expect((await simJson(sim, "POST", "/_sim/faults", { body: { rate: 1, retryAfterSeconds: -1 } })).status).toBe(400);
  });
});
