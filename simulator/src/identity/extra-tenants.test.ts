// A second Entra tenant (the vendor's) signs in to the same simulator: own tid, no subscriptions, no customer data.
import { ConfidentialClientApplication, CryptoProvider } from "@azure/msal-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { startTestSimulator, TEST_CLIENT, simJson, simToken } from "../testing";
import { decodeJwt } from "./jwt";

const REDIRECT = "http://localhost:3000/auth/callback";
const ARM_SCOPE = "https://management.azure.com/user_impersonation";
const ENGINEER = "engineer@expelvendor.onmicrosoft.com";
const OWNER = "owner@contoso.onmicrosoft.com";
const VENDOR_TENANT = "e7e1d5a0-3c4b-4f7e-9d2a-5b6c7d8e9f01";
const CONTOSO_PROD = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});

const unescape = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

/** Opens the account picker at `authUrl` and returns its HTML. */
async function pickerOf(authUrl: string): Promise<string> {
  const page = await fetch(authUrl);
  expect(page.status).toBe(200);
  return page.text();
}

/** Clicks `upn` on the picker: returns the redirect to the client. */
async function pick(html: string, upn: string): Promise<URL> {
  const action = unescape(/<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? "");
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    form.append(unescape(m[1] ?? ""), unescape(m[2] ?? ""));
  form.set("login_upn", upn);
  const res = await fetch(new URL(action, sim.url), { method: "POST", body: form, redirect: "manual" });
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location") ?? "");
}

async function msal(tenantSegment: string) {
  const app = new ConfidentialClientApplication({
    auth: {
      clientId: TEST_CLIENT.clientId,
      clientSecret: TEST_CLIENT.clientSecret,
      authority: `${sim.url}/${tenantSegment}`,
      knownAuthorities: [new URL(sim.url).host],
    },
  });
  const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
  const url = await app.getAuthCodeUrl({
    scopes: [ARM_SCOPE],
    redirectUri: REDIRECT,
    codeChallenge: challenge,
    codeChallengeMethod: "S256",
    state: "s",
    nonce: "n",
  });
  return { app, verifier, url };
}

describe("extra tenants (the vendor's own Entra tenant)", () => {
  it("signs the vendor engineer in through the multi-tenant authority with their own tenant id", async () => {
    const { app, verifier, url } = await msal("organizations");
    const html = await pickerOf(url);
    expect(html).toContain(`>${OWNER}</button>`);
    expect(html).toContain(`>${ENGINEER}</button>`);
    const location = await pick(html, ENGINEER);
    const code = location.searchParams.get("code") ?? "";
    const result = await app.acquireTokenByCode({ code, scopes: [ARM_SCOPE], redirectUri: REDIRECT, codeVerifier: verifier, nonce: "n" });
    expect(result.idTokenClaims).toMatchObject({ tid: VENDOR_TENANT, preferred_username: ENGINEER, name: "Erin Engineer" });
    expect(result.account?.tenantId).toBe(VENDOR_TENANT);
    const arm = decodeJwt(result.accessToken);
    expect(arm).toMatchObject({ tid: VENDOR_TENANT, iss: `https://sts.windows.net/${VENDOR_TENANT}/`, upn: ENGINEER });

    // Refresh (silent) stays in the engineer's tenant.
    const again = await app.acquireTokenSilent({ account: result.account!, scopes: [ARM_SCOPE], forceRefresh: true });
    expect(decodeJwt(again.accessToken).tid).toBe(VENDOR_TENANT);
  });

  it("offers only a tenant's own users at a tenant-specific authority", async () => {
    const vendor = await pickerOf((await msal("expelvendor.onmicrosoft.com")).url);
    expect(vendor).toContain("Sign in to Expel (vendor) (Azure simulator)");
    expect(vendor).toContain(`>${ENGINEER}</button>`);
    expect(vendor).not.toContain(OWNER);

    const contoso = await msal(sim.state().scenario.tenant.id);
    const html = await pickerOf(contoso.url);
    expect(html).not.toContain(ENGINEER);
    const refused = await fetch(new URL(unescape(/<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? ""), sim.url), {
      method: "POST",
      body: new URLSearchParams([...new URL(contoso.url).searchParams.entries(), ["login_upn", ENGINEER]]),
      redirect: "manual",
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("AADSTS50034");
  });

  it("gives the engineer's ARM token its own tenant, no subscriptions, and a wrong-tenant 401 on Contoso's", async () => {
    const token = await simToken(sim, { upn: ENGINEER, resource: "arm" });
    const tenants = await simJson(sim, "GET", "/tenants?api-version=2022-12-01", { token });
    expect(tenants.status).toBe(200);
    expect(tenants.body.value).toEqual([
      expect.objectContaining({ tenantId: VENDOR_TENANT, displayName: "Expel (vendor)", defaultDomain: "expelvendor.onmicrosoft.com" }),
    ]);
    expect((await simJson(sim, "GET", "/subscriptions?api-version=2022-12-01", { token })).body).toEqual({ value: [] });
    const foreign = await simJson(
      sim,
      "GET",
      `/subscriptions/${CONTOSO_PROD}/providers/Microsoft.ContainerService/managedClusters?api-version=2024-09-01`,
      { token },
    );
    expect(foreign.status).toBe(401);
    expect(foreign.body.error.code).toBe("InvalidAuthenticationTokenTenant");

    const graph = await simToken(sim, { upn: ENGINEER, resource: "graph" });
    expect((await simJson(sim, "GET", "/v1.0/applications", { token: graph })).status).toBe(401);
  });

  it("lists the home tenant with its display name for a customer admin", async () => {
    const token = await simToken(sim, { upn: OWNER, resource: "arm" });
    const tenants = await simJson(sim, "GET", "/tenants?api-version=2022-12-01", { token });
    expect(tenants.body.value).toEqual([expect.objectContaining({ tenantId: sim.state().scenario.tenant.id, displayName: "Contoso" })]);
  });
});
