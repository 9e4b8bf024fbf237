// Scenario service principals: `az login --service-principal` style sign-in, then ARM and Graph authorize them like users.
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { DEFAULT_SCENARIO, simJson, startTestSimulator } from "../testing";
import { decodeJwt } from "./jwt";

const PROD = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const DEV = "2cf36c9a-02f4-41d4-b097-7345a8e2806e";
const READER = {
  appId: "1b0c6a55-4d2e-4f3a-8b9c-0d1e2f3a4b5c",
  objectId: "2c1d7b66-5e3f-4a4b-9cad-1e2f3a4b5c6d",
  applicationObjectId: "3d2e8c77-6f4a-4b5c-8dbe-2f3a4b5c6d7e",
  displayName: "CLI reader",
  secret: "cli-reader-secret-0123456789",
  directoryRoles: ["Directory Readers"],
  subscriptionRoles: { [PROD]: ["Reader"] },
  graphAppRoles: [],
};
const CONSENTED = {
  ...READER,
  appId: "4e3f9d88-7a5b-4c6d-9ecf-3a4b5c6d7e8f",
  objectId: "5f4a0e99-8b6c-4d7e-8fd0-4b5c6d7e8f90",
  applicationObjectId: "6a5b1faa-9c7d-4e8f-9ae1-5c6d7e8f9a01",
  displayName: "CLI consented",
  directoryRoles: [],
  subscriptionRoles: {},
  graphAppRoles: ["Application.Read.All"],
};

let sim: RunningSimulator;
let tenant: string;
beforeAll(async () => {
  const scenario = JSON.parse(fs.readFileSync(DEFAULT_SCENARIO, "utf8")) as { tenant: { id: string } } & Record<string, unknown>;
  tenant = scenario.tenant.id;
  sim = await startTestSimulator({ scenario: { ...scenario, servicePrincipals: [READER, CONSENTED] } });
});
afterAll(async () => {
  await sim?.close();
});

async function clientCredentials(appId: string, secret: string, scope: string) {
  const form = new URLSearchParams({ grant_type: "client_credentials", client_id: appId, client_secret: secret, scope });
  const res = await fetch(`${sim.url}/${tenant}/oauth2/v2.0/token`, { method: "POST", body: form });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("scenario service principals", () => {
  it("sign in with their secret; a wrong secret is AADSTS7000215", async () => {
    const ok = await clientCredentials(READER.appId, READER.secret, "https://management.core.windows.net//.default");
    expect(ok.status).toBe(200);
    const claims = decodeJwt(String(ok.body.access_token));
    expect(claims).toMatchObject({ appid: READER.appId, oid: READER.objectId, tid: tenant, idtyp: "app" });
    const bad = await clientCredentials(READER.appId, "not-the-secret", "https://management.core.windows.net//.default");
    expect(bad.status).toBe(401);
    expect(String(bad.body.error_description)).toMatch(/^AADSTS7000215:/);
  });

  it("ARM authorizes them by their role assignments", async () => {
    const { body } = await clientCredentials(READER.appId, READER.secret, "https://management.core.windows.net//.default");
    const token = String(body.access_token);
    const subs = await simJson(sim, "GET", "/subscriptions?api-version=2019-11-01", { token });
    expect(subs.status).toBe(200);
    expect((subs.body as { value: { subscriptionId: string }[] }).value.map((s) => s.subscriptionId)).toEqual([PROD]);
    const dev = await simJson(sim, "GET", `/subscriptions/${DEV}/resourcegroups?api-version=2021-04-01`, { token });
    expect(dev.status).toBe(403);
    const write = await simJson(sim, "PUT", `/subscriptions/${PROD}/resourcegroups/rg-new?api-version=2021-04-01`, {
      token,
      body: { location: "eastus" },
    });
    expect(write.status).toBe(403);
    expect(write.body.error.code).toBe("AuthorizationFailed");
  });

  it("Graph authorizes them by directory role or by consented application permission, and a scope on the simulator's URL is Graph", async () => {
    const graphScope = `${sim.url}/.default`;
    const reader = await clientCredentials(READER.appId, READER.secret, graphScope);
    expect(reader.status).toBe(200);
    expect(decodeJwt(String(reader.body.access_token)).aud).toBe("https://graph.microsoft.com");
    const consented = await clientCredentials(CONSENTED.appId, CONSENTED.secret, "https://graph.microsoft.com/.default");
    expect(decodeJwt(String(consented.body.access_token)).roles).toEqual(["Application.Read.All"]);
    for (const token of [String(reader.body.access_token), String(consented.body.access_token)]) {
      const apps = await simJson(sim, "GET", `/v1.0/applications?$filter=appId eq '${READER.appId}'`, { token });
      expect(apps.status).toBe(200);
      expect(apps.body.value.map((a: { id: string }) => a.id)).toEqual([READER.applicationObjectId]);
      const sps = await simJson(sim, "GET", `/v1.0/servicePrincipals?$filter=servicePrincipalNames/any(c:c eq '${READER.appId}')`, {
        token,
      });
      expect(sps.body.value.map((s: { id: string }) => s.id)).toEqual([READER.objectId]);
      const create = await simJson(sim, "POST", "/v1.0/applications", { token, body: { displayName: "nope" } });
      expect(create.status).toBe(403);
    }
  });

  it("instance discovery answers for this host's tenant, and refuses hosts that are no Entra instance", async () => {
    const ask = (endpoint: string) =>
      simJson(sim, "GET", `/common/discovery/instance?api-version=1.0&authorization_endpoint=${encodeURIComponent(endpoint)}`);
    const own = await ask(`https://127.0.0.1/${tenant}/oauth2/v2.0/authorize`);
    expect(own.body.tenant_discovery_endpoint).toBe(`${sim.url}/${tenant}/v2.0/.well-known/openid-configuration`);
    const other = await ask("https://login.example.org/contoso/oauth2/v2.0/authorize");
    expect(other.status).toBe(400);
    expect(other.body.error).toBe("invalid_instance");
  });
});
