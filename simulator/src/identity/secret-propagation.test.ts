// A new client secret is refused with AADSTS7000215 until the propagation window has passed, as Entra replicates it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { simJson, simToken, startTestSimulator } from "../testing";

const OWNER = "owner@contoso.onmicrosoft.com";
let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});

async function newAppWithSecret(): Promise<{ appId: string; secret: string }> {
  const graph = await simToken(sim, { upn: OWNER, resource: "graph" });
  const app = await simJson(sim, "POST", "/v1.0/applications", { token: graph, body: { displayName: "verifier" } });
  await simJson(sim, "POST", "/v1.0/servicePrincipals", { token: graph, body: { appId: app.body.appId } });
  const pwd = await simJson(sim, "POST", `/v1.0/applications/${app.body.id}/addPassword`, {
    token: graph,
    body: { passwordCredential: { displayName: "v" } },
  });
  return { appId: String(app.body.appId), secret: String(pwd.body.secretText) };
}

async function signIn(appId: string, secret: string) {
  const tenant = sim.state().scenario.tenant.id;
  const res = await fetch(`${sim.url}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: appId,
      client_secret: secret,
      scope: "https://management.azure.com/.default",
    }),
  });
  return { status: res.status, body: (await res.json()) as { error?: string; error_description?: string; access_token?: string } };
}

describe("client secret propagation", () => {
  it("refuses a new secret like a wrong one during the window, then accepts it", async () => {
    const set = await simJson(sim, "POST", "/_sim/latency", { body: { secretPropagationMs: 1500, replicationMs: 0 } });
    expect(set.body.latency.secretPropagationMs).toBe(1500);
    const { appId, secret } = await newAppWithSecret();
    const early = await signIn(appId, secret);
    expect(early.status).toBe(401);
    expect(early.body.error).toBe("invalid_client");
    expect(early.body.error_description).toMatch(/^AADSTS7000215: Invalid client secret provided/);
    await new Promise((r) => setTimeout(r, 1600));
    const later = await signIn(appId, secret);
    expect(later.status).toBe(200);
    expect(later.body.access_token).toBeTruthy();
  });

  it("accepts a new secret at once when the window is 0", async () => {
    await simJson(sim, "POST", "/_sim/latency", { body: { secretPropagationMs: 0, replicationMs: 0 } });
    const { appId, secret } = await newAppWithSecret();
    expect((await signIn(appId, secret)).status).toBe(200);
  });

  it("starts from the simulator option after a reset", async () => {
    await simJson(sim, "POST", "/_sim/reset");
    expect(sim.state().latency.secretPropagationMs).toBe(2000);
  });
});
