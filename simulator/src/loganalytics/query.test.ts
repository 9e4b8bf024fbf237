// Log Analytics: workspaces through ARM (typed and generic lists) and the query API's authorization.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOG_ANALYTICS_DATA_READ_ROLE_ID, WELL_KNOWN_APPS } from "../contract";
import type { RunningSimulator } from "../index";
import { simJson, simToken, startTestSimulator } from "../testing";

const SUB = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const WORKSPACE_GUID = "8b5c3f0e-2d7a-4c1b-9e6f-3a4d5b6c7e81";
const WORKSPACE_ID = `/subscriptions/${SUB}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.OperationalInsights/workspaces/law-prod-eastus`;
const LA_READER = "73c42c96-874c-492b-b04d-ab87d138a893";
const OWNER = "owner@contoso.onmicrosoft.com";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});

function app(opts: { dataRead: boolean; role?: string }): string {
  const state = sim.state();
  const appId = crypto.randomUUID();
  const spId = crypto.randomUUID();
  state.graph.servicePrincipals.push({ id: spId, appId, displayName: "verifier" });
  const la = state.graph.servicePrincipals.find((s) => s.appId === WELL_KNOWN_APPS.logAnalyticsApi);
  if (opts.dataRead && la)
    state.graph.appRoleAssignments.push({
      id: crypto.randomUUID(),
      principalId: spId,
      resourceId: la.id,
      appRoleId: LOG_ANALYTICS_DATA_READ_ROLE_ID,
    });
  if (opts.role) {
    const name = crypto.randomUUID();
    state.putArm({
      id: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments/${name}`,
      name,
      type: "Microsoft.Authorization/roleAssignments",
      properties: {
        roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/${opts.role}`,
        principalId: spId,
        principalType: "ServicePrincipal",
        scope: `/subscriptions/${SUB}`,
      },
    });
  }
  return appId;
}

async function query(appId: string, q = "print ok=1", workspace = WORKSPACE_GUID) {
  const token = await simToken(sim, { appId, resource: "loganalytics" });
  return simJson(sim, "POST", `/v1/workspaces/${workspace}/query`, { token, body: { query: q } });
}

describe("Log Analytics workspaces in ARM", () => {
  it("lists the scenario's workspace with its customerId, typed and through the generic resource list", async () => {
    const token = await simToken(sim, { upn: OWNER, resource: "arm" });
    const typed = await simJson(
      sim,
      "GET",
      `/subscriptions/${SUB}/providers/Microsoft.OperationalInsights/workspaces?api-version=2022-10-01`,
      { token },
    );
    expect(typed.status).toBe(200);
    expect(typed.body.value).toEqual([
      expect.objectContaining({ id: WORKSPACE_ID, properties: expect.objectContaining({ customerId: WORKSPACE_GUID }) }),
    ]);
    const filter = encodeURIComponent("resourceType eq 'Microsoft.OperationalInsights/workspaces'");
    const generic = await simJson(sim, "GET", `/subscriptions/${SUB}/resources?$filter=${filter}&api-version=2025-04-01`, { token });
    expect(generic.status).toBe(200);
    expect(generic.body.value).toEqual([
      { id: WORKSPACE_ID, name: "law-prod-eastus", type: "Microsoft.OperationalInsights/workspaces", location: "eastus" },
    ]);
    const one = await simJson(sim, "GET", `${WORKSPACE_ID}?api-version=2022-10-01`, { token });
    expect(one.body.properties.customerId).toBe(WORKSPACE_GUID);
  });
});

describe("POST /v1/workspaces/{id}/query", () => {
  it("answers print ok=1 with a real table shape for an app with Data.Read and Log Analytics Reader", async () => {
    const r = await query(app({ dataRead: true, role: LA_READER }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ tables: [{ name: "PrimaryResult", columns: [{ name: "ok", type: "long" }], rows: [[1]] }] });
    const diag = await query(app({ dataRead: true, role: LA_READER }), "AzureDiagnostics | take 1");
    expect(diag.body.tables[0].columns.map((c: { name: string }) => c.name)).toContain("TimeGenerated");
  });

  it("refuses an app without Data.Read, or without a role over the workspace, with InsufficientAccessError", async () => {
    expect((await query(app({ dataRead: false, role: LA_READER }))).body.error.code).toBe("InsufficientAccessError");
    const noRole = await query(app({ dataRead: true }));
    expect(noRole.status).toBe(403);
    expect(noRole.body.error.code).toBe("InsufficientAccessError");
  });

  it("refuses a token for another audience and unknown workspaces and queries", async () => {
    const appId = app({ dataRead: true, role: LA_READER });
    const arm = await simToken(sim, { appId, resource: "arm" });
    expect(
      (await simJson(sim, "POST", `/v1/workspaces/${WORKSPACE_GUID}/query`, { token: arm, body: { query: "print ok=1" } })).status,
    ).toBe(401);
    expect((await query(appId, "print ok=1", crypto.randomUUID())).status).toBe(403);
    expect((await query(appId, "SecurityEvent | summarize count()")).body.error.code).toBe("BadArgumentError");
  });
});
