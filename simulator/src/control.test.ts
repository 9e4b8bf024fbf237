// The /_sim control API: reset (validated), state snapshot without secrets, request log, latency, loopback only.
import crypto from "node:crypto";
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createControl } from "./control";
import type { RunningSimulator } from "./index";
import { loadSigningKey } from "./identity/keys";
import { SimState } from "./state";
import { scenarioSchema } from "./contract";
import { simJson, simToken, startTestSimulator, TEST_CLIENT, TEST_WORKBENCH_KEY } from "./testing";

const OWNER = "owner@contoso.onmicrosoft.com";
let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});

const fabrikam = JSON.parse(fs.readFileSync("simulator/scenarios/fabrikam.json", "utf8")) as unknown;

describe("control API", () => {
  it("reports health", async () => {
    const r = await simJson(sim, "GET", "/_sim/health");
    expect(r.body).toMatchObject({ status: "ok", url: sim.url, tenant: { displayName: "Contoso" } });
  });

  it("resets to another scenario, and back to the current one with an empty body", async () => {
    const r = await simJson(sim, "POST", "/_sim/reset", { body: fabrikam });
    expect(r.status).toBe(200);
    expect(sim.state().scenario.tenant.displayName).toBe("Fabrikam");
    const fabrikamState = (await simJson(sim, "GET", "/_sim/state")).body;
    expect(
      fabrikamState.arm.some(
        (x: { type: string; name: string }) => x.type === "Microsoft.ContainerService/managedClusters" && x.name === "aks-fabrikam-prod",
      ),
    ).toBe(true);

    sim.state().graph.applications.push({ id: crypto.randomUUID(), appId: crypto.randomUUID(), displayName: "leftover" });
    expect((await simJson(sim, "POST", "/_sim/reset")).status).toBe(200);
    expect(sim.state().scenario.tenant.displayName).toBe("Fabrikam");
    expect(sim.state().graph.applications.some((a) => a.displayName === "leftover")).toBe(false);

    const contoso = JSON.parse(fs.readFileSync("simulator/scenarios/default.json", "utf8")) as unknown;
    await simJson(sim, "POST", "/_sim/reset", { body: contoso });
    const clusters = (await simJson(sim, "GET", "/_sim/state")).body.arm.filter(
      (x: { type: string }) => x.type === "Microsoft.ContainerService/managedClusters",
    );
    expect(clusters).toHaveLength(4);
  });

  it("refuses an invalid scenario with readable issues", async () => {
    const r = await simJson(sim, "POST", "/_sim/reset", {
      body: { tenant: { id: "not-a-uuid", domain: "x", displayName: "" }, users: [] },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("InvalidScenario");
    expect(r.body.error.message).toContain("tenant.id");
    expect(r.body.error.issues.map((i: { path: string }) => i.path)).toEqual(
      expect.arrayContaining(["tenant.id", "users", "subscriptions"]),
    );
    expect(sim.state().scenario.tenant.displayName).toBe("Contoso");
  });

  it("never reveals secretText in /_sim/state", async () => {
    await simJson(sim, "POST", "/_sim/reset");
    const graph = await simToken(sim, { upn: OWNER, resource: "graph" });
    const app = await simJson(sim, "POST", "/v1.0/applications", { token: graph, body: { displayName: "vendor-reader" } });
    expect(app.status).toBe(201);
    const pwd = await simJson(sim, "POST", `/v1.0/applications/${app.body.id}/addPassword`, {
      token: graph,
      body: { passwordCredential: { displayName: "vendor" } },
    });
    expect(pwd.status).toBe(200);
    const secret = String(pwd.body.secretText);
    const state = await simJson(sim, "GET", "/_sim/state");
    const text = JSON.stringify(state.body);
    expect(text).not.toContain(secret);
    expect(text).toContain(String(pwd.body.hint));
    expect(Object.keys(state.body)).toEqual(expect.arrayContaining(["arm", "graph", "workbench"]));
    expect(Object.keys(state.body.graph).sort()).toEqual(["appRoleAssignments", "applications", "servicePrincipals"]);
  });

  it("logs requests with api-version, caller and redacted bodies; filters by since; clears", async () => {
    await simJson(sim, "DELETE", "/_sim/requests");
    const before = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    const tenantId = sim.state().scenario.tenant.id;
    await simJson(sim, "POST", "/workbench/api/v1/security-devices", {
      headers: { authorization: `Bearer ${TEST_WORKBENCH_KEY}` },
      body: {
        name: "contoso-aks",
        description: "",
        device_type: "Azure Kubernetes Service",
        credentials: { tenant_id: tenantId, client_id: TEST_CLIENT.clientId, client_secret: "super-secret-value" },
        storage_accounts: ["contosoaudit01"],
      },
    });
    const arm = await simToken(sim, { upn: OWNER, resource: "arm" });
    await simJson(sim, "GET", "/subscriptions?api-version=2022-12-01", { token: arm });
    const all = (await simJson(sim, "GET", "/_sim/requests")).body;
    expect(all).toHaveLength(2);
    expect(JSON.stringify(all)).not.toContain("super-secret-value");
    expect(all[0].body.credentials.client_secret).toBe("***");
    expect(all[1]).toMatchObject({
      method: "GET",
      url: "/subscriptions?api-version=2022-12-01",
      apiVersion: "2022-12-01",
      status: 200,
      caller: OWNER,
    });
    const since = (await simJson(sim, "GET", `/_sim/requests?since=${encodeURIComponent(all[1].time)}`)).body;
    expect(since.length).toBeGreaterThanOrEqual(1);
    expect((await simJson(sim, "GET", `/_sim/requests?since=${encodeURIComponent(before)}`)).body).toHaveLength(2);
    expect((await simJson(sim, "GET", "/_sim/requests?since=yesterday")).status).toBe(400);
    expect((await simJson(sim, "DELETE", "/_sim/requests")).status).toBe(204);
    expect((await simJson(sim, "GET", "/_sim/requests")).body).toHaveLength(0);
  });

  it("sets latency (merged into the current profile)", async () => {
    const r = await simJson(sim, "POST", "/_sim/latency", { body: { requestMs: 50, lroMs: { storageAccount: 1200 } } });
    expect(r.body.latency).toMatchObject({
      requestMs: 50,
      lroMs: { storageAccount: 1200 },
      replicationMs: sim.state().latency.replicationMs,
    });
    const arm = await simToken(sim, { upn: OWNER, resource: "arm" });
    const t0 = Date.now();
    await simJson(sim, "GET", "/subscriptions?api-version=2022-12-01", { token: arm });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    await simJson(sim, "POST", "/_sim/latency", { body: { requestMs: 0 } });
    expect((await simJson(sim, "POST", "/_sim/latency", { body: { requestMs: -1 } })).status).toBe(400);
  });

  it("mints test tokens and validates the request", async () => {
    expect((await simJson(sim, "POST", "/_sim/token", { body: { upn: "nobody@contoso.onmicrosoft.com", resource: "arm" } })).status).toBe(
      404,
    );
    expect((await simJson(sim, "POST", "/_sim/token", { body: { resource: "arm" } })).status).toBe(400);
    expect(
      (await simJson(sim, "POST", "/_sim/token", { body: { upn: OWNER, resource: "graph", scopes: ["Application.Read.All"] } })).body
        .access_token,
    ).toMatch(/^ey/);
  });

  it("answers loopback clients only", async () => {
    const scenario = scenarioSchema.parse(JSON.parse(fs.readFileSync("simulator/scenarios/default.json", "utf8")));
    const state = new SimState(scenario, "https://127.0.0.1:1", "https://127.0.0.1:2");
    const handle = createControl({
      baseUrl: "https://127.0.0.1:1",
      blobUrl: undefined,
      key: loadSigningKey(sim.dataDir),
      clients: [TEST_CLIENT],
      state: () => state,
      reset: async () => state,
      flushKubeAudit: async () => [],
    });
    const req = {
      method: "GET",
      path: "/_sim/health",
      url: "/_sim/health",
      query: new URLSearchParams(),
      headers: {},
      rawBody: Buffer.alloc(0),
    };
    expect((await handle({ ...req, remoteAddress: "10.1.2.3" })).status).toBe(403);
    expect((await handle({ ...req, remoteAddress: "::ffff:127.0.0.1" })).status).toBe(200);
  });
});
