// Fault injection: reproducible from a seed, scoped to the right requests, and free of side effects.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningSimulator } from "./index";
import { simJson, simToken, startTestSimulator } from "./testing";

const OWNER = "owner@contoso.onmicrosoft.com";
const SUB = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
let sim: RunningSimulator;
let arm: string;
let graph: string;

beforeAll(async () => {
  sim = await startTestSimulator();
  arm = await simToken(sim, { upn: OWNER, resource: "arm" });
  graph = await simToken(sim, { upn: OWNER, resource: "graph" });
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(async () => {
  await simJson(sim, "POST", "/_sim/reset");
});

async function statuses(n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++)
    out.push((await simJson(sim, "GET", `/subscriptions/${SUB}/resourcegroups?api-version=2025-04-01`, { token: arm })).status);
  return out;
}

describe("faults", () => {
  it("replays the same fault sequence for the same seed", async () => {
    const profile = { rate: 0.5, kinds: ["429", "500", "503"], seed: 42 };
    expect((await simJson(sim, "POST", "/_sim/faults", { body: profile })).status).toBe(200);
    const first = await statuses(24);
    await simJson(sim, "POST", "/_sim/faults", { body: profile });
    const second = await statuses(24);
    expect(second).toEqual(first);
    expect(first.filter((s) => s === 200).length).toBeGreaterThan(0);
    expect(first.filter((s) => s !== 200).length).toBeGreaterThan(0);
    expect(new Set(first.filter((s) => s !== 200))).toSatisfy((set: Set<number>) => [...set].every((s) => [429, 500, 503].includes(s)));
    await simJson(sim, "POST", "/_sim/faults", { body: { ...profile, seed: 7 } });
    expect(await statuses(24)).not.toEqual(first);
  });

  it("throttles with Retry-After and ARM rate-limit headers", async () => {
    await simJson(sim, "POST", "/_sim/faults", { body: { rate: 1, kinds: ["429"], seed: 1 } });
    const r = await simJson(sim, "GET", `/subscriptions/${SUB}/resourcegroups?api-version=2025-04-01`, { token: arm });
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("1");
    expect(r.headers.get("x-ms-ratelimit-remaining-subscription-reads")).toBe("0");
    expect(r.body.error.code).toBe("SubscriptionRequestsThrottled");
  });

  it("has no side effect: a faulted create creates nothing", async () => {
    const before = sim.state().graph.applications.length;
    await simJson(sim, "POST", "/_sim/faults", { body: { rate: 1, kinds: ["500"], seed: 3 } });
    const r = await simJson(sim, "POST", "/v1.0/applications", { token: graph, body: { displayName: "should-not-exist" } });
    expect(r.status).toBe(500);
    expect(r.body.error.code).toBe("generalException");
    expect(sim.state().graph.applications.length).toBe(before);
    const log = (await simJson(sim, "GET", "/_sim/requests")).body as { url: string; status: number }[];
    expect(log.at(-1)).toMatchObject({ url: "/v1.0/applications", status: 500 });
  });

  it("PrincipalNotFound hits only role-assignment PUTs", async () => {
    await simJson(sim, "POST", "/_sim/faults", { body: { rate: 1, kinds: ["PrincipalNotFound"], seed: 1 } });
    expect((await simJson(sim, "GET", `/subscriptions/${SUB}/resourcegroups?api-version=2025-04-01`, { token: arm })).status).toBe(200);
    const id = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments/0b9a5b43-4f0e-4a8c-9d3e-5b3a1f2c7d10`;
    const principalId = "5f0c3a9e-2b7d-4c1e-8f6a-9d2b4e7c1a30";
    const r = await simJson(sim, "PUT", `${id}?api-version=2022-04-01`, {
      token: arm,
      body: {
        properties: {
          roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7`,
          principalId,
          principalType: "ServicePrincipal",
        },
      },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("PrincipalNotFound");
    expect(r.body.error.message).toContain("replication delay");
    expect(r.body.error.message).toContain("principalType");
    expect(sim.state().getArm(id)).toBeUndefined();
  });

  it("NoBackingApplicationObject hits only POST /v1.0/servicePrincipals", async () => {
    await simJson(sim, "POST", "/_sim/faults", { body: { rate: 1, kinds: ["NoBackingApplicationObject"], seed: 1 } });
    expect((await simJson(sim, "GET", "/v1.0/applications", { token: graph })).status).toBe(200);
    const before = sim.state().graph.servicePrincipals.length;
    const appId = "8d3c2b1a-6f5e-4d3c-9b2a-1f0e9d8c7b6a";
    const r = await simJson(sim, "POST", "/v1.0/servicePrincipals", { token: graph, body: { appId } });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({
      code: "Request_BadRequest",
      message: `The appId '${appId}' of the service principal does not reference a valid application object.`,
    });
    expect(sim.state().graph.servicePrincipals.length).toBe(before);
  });

  it("validates the profile", async () => {
    const r = await simJson(sim, "POST", "/_sim/faults", { body: { rate: 2, kinds: ["418"] } });
    expect(r.status).toBe(400);
    expect(r.body.error.issues.length).toBeGreaterThan(0);
  });
});
