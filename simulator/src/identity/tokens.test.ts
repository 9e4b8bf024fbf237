// client_credentials for apps created through Graph, and access-token validation on ARM and Graph.
import crypto from "node:crypto";
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOG_ANALYTICS_DATA_READ_ROLE_ID, WELL_KNOWN_APPS } from "../contract";
import type { RunningSimulator } from "../index";
import { simJson, simToken, startTestSimulator, TEST_CLIENT } from "../testing";
import { decodeJwt, signJwt } from "./jwt";
import { loadSigningKey } from "./keys";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});

async function clientCredentials(clientId: string, secret: string, scope: string) {
  const res = await fetch(`${sim.url}/${sim.state().scenario.tenant.id}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secret, scope }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** An app registration + service principal + secret, as the Graph handlers would have stored them. */
function addApp(opts: { expired?: boolean } = {}) {
  const state = sim.state();
  const appId = crypto.randomUUID();
  const spId = crypto.randomUUID();
  const secretText = `s~${crypto.randomBytes(24).toString("base64url")}`;
  state.graph.applications.push({ id: crypto.randomUUID(), appId, displayName: "vendor-reader" });
  state.graph.servicePrincipals.push({ id: spId, appId, displayName: "vendor-reader" });
  state.secrets.push({
    appId,
    keyId: crypto.randomUUID(),
    secretText,
    endDateTime: new Date(Date.now() + (opts.expired ? -1 : 1) * 86_400_000).toISOString(),
  });
  return { appId, spId, secretText };
}

describe("client_credentials", () => {
  it("issues an app token with the app roles granted to its service principal", async () => {
    const { appId, spId, secretText } = addApp();
    const la = sim.state().graph.servicePrincipals.find((sp) => sp.appId === WELL_KNOWN_APPS.logAnalyticsApi);
    expect(la).toBeDefined();
    sim.state().graph.appRoleAssignments.push({
      id: crypto.randomUUID(),
      principalId: spId,
      resourceId: la?.id ?? "",
      appRoleId: LOG_ANALYTICS_DATA_READ_ROLE_ID,
    });

    const r = await clientCredentials(appId, secretText, "https://api.loganalytics.io/.default");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: "Bearer", expires_in: 3600 });
    expect(r.body).not.toHaveProperty("refresh_token");
    const claims = decodeJwt(String(r.body.access_token));
    expect(claims).toMatchObject({ aud: "https://api.loganalytics.io", oid: spId, appid: appId, roles: ["Data.Read"], idtyp: "app" });
    expect(claims).not.toHaveProperty("scp");

    const arm = await clientCredentials(appId, secretText, "https://management.azure.com/.default");
    const armClaims = decodeJwt(String(arm.body.access_token));
    expect(armClaims.aud).toBe("https://management.azure.com/");
    expect(armClaims).not.toHaveProperty("roles");
  });

  it("answers AADSTS7000215 for a wrong secret and 7000222 for an expired one, 700016 for an unknown app", async () => {
    const { appId } = addApp();
    const wrong = await clientCredentials(appId, "not-the-secret", "https://api.loganalytics.io/.default");
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ error: "invalid_client", error_codes: [7000215] });
    expect(String(wrong.body.error_description)).toMatch(/^AADSTS7000215: Invalid client secret provided/);

    const expired = addApp({ expired: true });
    const old = await clientCredentials(expired.appId, expired.secretText, "https://api.loganalytics.io/.default");
    expect(old.body.error_codes).toEqual([7000222]);

    const unknown = await clientCredentials(crypto.randomUUID(), "x", "https://api.loganalytics.io/.default");
    expect(unknown.status).toBe(400);
    expect(unknown.body.error_codes).toEqual([700016]);
  });

  it("requires a /.default scope", async () => {
    const { appId, secretText } = addApp();
    const r = await clientCredentials(appId, secretText, "https://api.loganalytics.io/Data.Read");
    expect(r.status).toBe(400);
    expect(r.body.error_codes).toEqual([1002012]);
  });
});

describe("access-token validation", () => {
  it("accepts the right audience and builds the caller", async () => {
    const arm = await simToken(sim, { upn: "owner@contoso.onmicrosoft.com", resource: "arm" });
    expect((await simJson(sim, "GET", "/subscriptions?api-version=2022-12-01", { token: arm })).status).toBe(200);
    const graph = await simToken(sim, { upn: "owner@contoso.onmicrosoft.com", resource: "graph" });
    expect(decodeJwt(graph).scp).toBe("Application.ReadWrite.All AppRoleAssignment.ReadWrite.All Application.Read.All User.Read");
    expect((await simJson(sim, "GET", "/v1.0/applications", { token: graph })).status).toBe(200);
    const log = (await simJson(sim, "GET", "/_sim/requests")).body as { url: string; caller: string }[];
    expect(log.find((e) => e.url === "/v1.0/applications")?.caller).toBe("owner@contoso.onmicrosoft.com");
  });

  it("rejects a wrong audience with each service's own 401 body", async () => {
    const graph = await simToken(sim, { upn: "owner@contoso.onmicrosoft.com", resource: "graph" });
    const onArm = await simJson(sim, "GET", "/subscriptions?api-version=2022-12-01", { token: graph });
    expect(onArm.status).toBe(401);
    expect(onArm.body.error.code).toBe("InvalidAuthenticationToken");
    expect(onArm.body.error.message).toContain("wrong audience or resource 'https://graph.microsoft.com'");
    expect(onArm.headers.get("www-authenticate")).toMatch(/^Bearer authorization_uri=/);

    const arm = await simToken(sim, { upn: "owner@contoso.onmicrosoft.com", resource: "arm" });
    const onGraph = await simJson(sim, "GET", "/v1.0/applications", { token: arm });
    expect(onGraph.status).toBe(401);
    expect(onGraph.body.error).toMatchObject({
      code: "InvalidAuthenticationToken",
      message: "Access token validation failure. Invalid audience.",
    });
    expect(onGraph.headers.get("www-authenticate")).toContain('client_id="00000003-0000-0000-c000-000000000000"');
  });

  it("rejects expired, forged and missing tokens", async () => {
    const expired = await simToken(sim, { upn: "owner@contoso.onmicrosoft.com", resource: "arm", expiresIn: -60 });
    const e = await simJson(sim, "GET", "/subscriptions?api-version=2022-12-01", { token: expired });
    expect(e.status).toBe(401);
    expect(e.body.error.code).toBe("ExpiredAuthenticationToken");
    const eg = await simJson(sim, "GET", "/v1.0/applications", {
      token: await simToken(sim, { upn: "owner@contoso.onmicrosoft.com", resource: "graph", expiresIn: -60 }),
    });
    expect(eg.status).toBe(401);
    expect(eg.body.error.code).toBe("InvalidAuthenticationToken");

    // Signed with another key (another simulator's data dir): signature check fails.
    const foreignDir = `.test-data/foreign-key-${crypto.randomUUID()}`;
    const foreign = loadSigningKey(foreignDir);
    fs.rmSync(foreignDir, { recursive: true, force: true });
    const claims = { ...decodeJwt(await simToken(sim, { upn: "owner@contoso.onmicrosoft.com", resource: "arm" })) };
    const forged = await simJson(sim, "GET", "/subscriptions?api-version=2022-12-01", { token: signJwt(claims, foreign) });
    expect(forged.status).toBe(401);
    expect(forged.body.error).toMatchObject({ code: "InvalidAuthenticationToken", message: "The access token is invalid." });

    const none = await simJson(sim, "GET", "/subscriptions?api-version=2022-12-01");
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe("AuthenticationFailed");
  });

  it("accepts the classic ARM audience and collapses duplicate slashes", async () => {
    const token = await simToken(sim, { upn: "owner@contoso.onmicrosoft.com", resource: "arm" });
    const classic = signJwt({ ...decodeJwt(token), aud: "https://management.core.windows.net/" }, loadSigningKey(sim.dataDir));
    expect((await simJson(sim, "GET", "//subscriptions?api-version=2022-12-01", { token: classic })).status).toBe(200);
  });

  it("lets a configured portal client use client_credentials too", async () => {
    const r = await clientCredentials(TEST_CLIENT.clientId, TEST_CLIENT.clientSecret, "https://graph.microsoft.com/.default");
    expect(r.status).toBe(200);
    expect(decodeJwt(String(r.body.access_token)).appid).toBe(TEST_CLIENT.clientId);
  });
});
