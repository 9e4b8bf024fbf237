// End-to-end sign-in through @azure/msal-node against the simulated Entra: code + PKCE + nonce, then silent Graph token.
import crypto from "node:crypto";
import { ConfidentialClientApplication, CryptoProvider } from "@azure/msal-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { startTestSimulator, TEST_CLIENT, simJson, simToken, type JsonBody } from "../testing";
import { decodeJwt } from "./jwt";

const REDIRECT = "http://localhost:3000/auth/callback";
const ARM_SCOPE = "https://management.azure.com/user_impersonation";
const GRAPH_SCOPES = [
  "https://graph.microsoft.com/Application.ReadWrite.All",
  "https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All",
];
const OWNER = "owner@contoso.onmicrosoft.com";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});

/** MSAL as the portal configures it; with `metadata`, the OIDC document is passed in instead of fetched by MSAL. */
async function cca(opts: { metadata?: boolean } = {}): Promise<ConfidentialClientApplication> {
  const host = new URL(sim.url).host;
  const authority = `${sim.url}/organizations`;
  const authorityMetadata = opts.metadata
    ? JSON.stringify(await (await fetch(`${authority}/v2.0/.well-known/openid-configuration`)).json())
    : undefined;
  return new ConfidentialClientApplication({
    auth: {
      clientId: TEST_CLIENT.clientId,
      clientSecret: TEST_CLIENT.clientSecret,
      authority,
      knownAuthorities: [host],
      authorityMetadata,
    },
  });
}

const unescape = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

/** Acts as the browser: opens the sign-in page, clicks the user's button, returns the redirect location. */
async function signIn(authUrl: string, upn: string): Promise<URL> {
  const page = await fetch(authUrl);
  expect(page.status).toBe(200);
  const html = await page.text();
  expect(html).toContain("Sign in to Contoso (Azure simulator)");
  const action = unescape(/<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? "");
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    form.append(unescape(m[1] ?? ""), unescape(m[2] ?? ""));
  // The button's accessible name is exactly the UPN.
  expect(html).toMatch(new RegExp(`<button type="submit" name="login_upn" value="${upn}" aria-describedby="[^"]+">${upn}</button>`));
  form.set("login_upn", upn);
  const res = await fetch(new URL(action, sim.url), { method: "POST", body: form, redirect: "manual" });
  expect(res.status).toBe(302);
  return new URL(res.headers.get("location") ?? "");
}

async function authorize(app: ConfidentialClientApplication, extra: { nonce?: string; state?: string } = {}) {
  const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
  const url = await app.getAuthCodeUrl({
    scopes: [ARM_SCOPE],
    extraScopesToConsent: GRAPH_SCOPES,
    redirectUri: REDIRECT,
    codeChallenge: challenge,
    codeChallengeMethod: "S256",
    state: extra.state ?? "st-1",
    nonce: extra.nonce,
  });
  const location = await signIn(url, OWNER);
  return { verifier, location, code: location.searchParams.get("code") ?? "" };
}

describe("Entra sign-in (authorization code + PKCE)", () => {
  it.each([{ metadata: false }, { metadata: true }])(
    "signs a user in with MSAL, then gets a Graph token silently (authorityMetadata given: $metadata)",
    async ({ metadata }) => {
      const app = await cca({ metadata });
      const { verifier, location, code } = await authorize(app, { nonce: "n-123", state: "st-42" });
      expect(`${location.origin}${location.pathname}`).toBe(REDIRECT);
      expect(location.searchParams.get("state")).toBe("st-42");
      expect(location.searchParams.get("client_info")).toBeTruthy();

      const result = await app.acquireTokenByCode({
        code,
        scopes: [ARM_SCOPE],
        redirectUri: REDIRECT,
        codeVerifier: verifier,
        nonce: "n-123",
      });
      expect(result.account?.username).toBe(OWNER);
      expect(result.idTokenClaims).toMatchObject({
        nonce: "n-123",
        aud: TEST_CLIENT.clientId,
        preferred_username: OWNER,
        name: "Olivia Owner",
      });
      const arm = decodeJwt(result.accessToken);
      expect(arm).toMatchObject({
        aud: "https://management.azure.com/",
        scp: "user_impersonation",
        upn: OWNER,
        appid: TEST_CLIENT.clientId,
      });
      expect(arm.iss).toBe(`https://sts.windows.net/${sim.state().scenario.tenant.id}/`);

      const account = result.account;
      if (!account) throw new Error("no account");
      const graph = await app.acquireTokenSilent({ account, scopes: ["https://graph.microsoft.com/.default"], forceRefresh: true });
      const g = decodeJwt(graph.accessToken);
      expect(g.aud).toBe("https://graph.microsoft.com");
      expect(String(g.scp).split(" ").sort()).toEqual(["AppRoleAssignment.ReadWrite.All", "Application.ReadWrite.All"]);

      // The tokens work against the simulated services.
      const subs = await simJson(sim, "GET", "/_sim/health");
      expect(subs.status).toBe(200);
      const armCall = await simJson(sim, "GET", "/subscriptions?api-version=2022-12-01", { token: result.accessToken });
      expect(armCall.status).not.toBe(401);
    },
  );

  it("refuses a graph scope the user never consented to", async () => {
    const app = await cca();
    const { verifier, code } = await authorize(app);
    const result = await app.acquireTokenByCode({ code, scopes: [ARM_SCOPE], redirectUri: REDIRECT, codeVerifier: verifier });
    if (!result.account) throw new Error("no account");
    await expect(
      app.acquireTokenSilent({ account: result.account, scopes: ["https://graph.microsoft.com/Directory.ReadWrite.All"] }),
    ).rejects.toThrow(/AADSTS65001/);
  });

  it("refuses a forged code, a reused code and a wrong code_verifier", async () => {
    const app = await cca();
    const forged = await tokenRequest({
      grant_type: "authorization_code",
      code: "forged-code",
      redirect_uri: REDIRECT,
      code_verifier: "x".repeat(43),
      scope: ARM_SCOPE,
    });
    expect(forged.status).toBe(400);
    expect(forged.body).toMatchObject({ error: "invalid_grant", error_codes: [9002313] });
    expect(forged.body.error_description).toMatch(/^AADSTS9002313: /);
    expect(forged.body).toHaveProperty("trace_id");
    expect(forged.body).toHaveProperty("correlation_id");

    const first = await authorize(app);
    const ok = await tokenRequest({
      grant_type: "authorization_code",
      code: first.code,
      redirect_uri: REDIRECT,
      code_verifier: first.verifier,
      scope: ARM_SCOPE,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ token_type: "Bearer", expires_in: 3600, ext_expires_in: 3600 });
    const reused = await tokenRequest({
      grant_type: "authorization_code",
      code: first.code,
      redirect_uri: REDIRECT,
      code_verifier: first.verifier,
      scope: ARM_SCOPE,
    });
    expect(reused.status).toBe(400);
    expect(reused.body.error_codes).toEqual([54005]);

    const second = await authorize(app);
    const wrong = await tokenRequest({
      grant_type: "authorization_code",
      code: second.code,
      redirect_uri: REDIRECT,
      code_verifier: "w".repeat(43),
      scope: ARM_SCOPE,
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error_codes).toEqual([501481]);

    const third = await authorize(app);
    const badSecret = await tokenRequest(
      { grant_type: "authorization_code", code: third.code, redirect_uri: REDIRECT, code_verifier: third.verifier, scope: ARM_SCOPE },
      "wrong-secret",
    );
    expect(badSecret.status).toBe(401);
    expect(badSecret.body.error_codes).toEqual([7000215]);
  });

  it("redeems a refresh token for another resource and rotates it; accepts client_secret_basic", async () => {
    const app = await cca();
    const { verifier, code } = await authorize(app);
    const first = await tokenRequest({
      grant_type: "authorization_code",
      code,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      scope: `${ARM_SCOPE} openid profile offline_access`,
    });
    expect(first.status).toBe(200);
    const tid = sim.state().scenario.tenant.id;
    const oid = "19281c3c-2885-478e-89dc-99a15ac5710a";
    expect(JSON.parse(Buffer.from(String(first.body.client_info), "base64url").toString())).toEqual({ uid: oid, utid: tid });
    expect(decodeJwt(String(first.body.id_token))).toMatchObject({
      iss: `${sim.url}/${tid}/v2.0`,
      aud: TEST_CLIENT.clientId,
      tid,
      oid,
      preferred_username: OWNER,
    });

    const basic = Buffer.from(`${TEST_CLIENT.clientId}:${TEST_CLIENT.clientSecret}`).toString("base64");
    const res = await fetch(`${sim.url}/organizations/oauth2/v2.0/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${basic}` },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: String(first.body.refresh_token),
        scope: "https://graph.microsoft.com/Application.ReadWrite.All offline_access",
      }),
    });
    const second = (await res.json()) as JsonBody;
    expect(res.status).toBe(200);
    expect(second.refresh_token).not.toBe(first.body.refresh_token);
    expect(second.scope).toBe(
      "https://graph.microsoft.com/Application.ReadWrite.All https://graph.microsoft.com/AppRoleAssignment.ReadWrite.All",
    );
    expect(decodeJwt(String(second.access_token))).toMatchObject({ aud: "https://graph.microsoft.com", upn: OWNER });

    const fromRotated = await tokenRequest({
      grant_type: "refresh_token",
      refresh_token: String(second.refresh_token),
      scope: "https://management.azure.com/.default",
    });
    expect(fromRotated.status).toBe(200);
    expect(decodeJwt(String(fromRotated.body.access_token)).aud).toBe("https://management.azure.com/");
    const mixed = await tokenRequest({
      grant_type: "refresh_token",
      refresh_token: String(second.refresh_token),
      scope: `${ARM_SCOPE} https://graph.microsoft.com/.default`,
    });
    expect(mixed.body.error_codes).toEqual([28000]);
  });

  it("answers response_mode=form_post with an auto-submitting form", async () => {
    const { challenge } = await new CryptoProvider().generatePkceCodes();
    const params = new URLSearchParams({
      client_id: TEST_CLIENT.clientId,
      response_type: "code",
      redirect_uri: REDIRECT,
      scope: ARM_SCOPE,
      code_challenge: challenge,
      code_challenge_method: "S256",
      response_mode: "form_post",
      state: "fp",
      login_upn: OWNER,
    });
    const res = await fetch(`${sim.url}/organizations/oauth2/v2.0/authorize`, { method: "POST", body: params });
    const html = await res.text();
    expect(html).toContain(`<form method="post" action="${REDIRECT}">`);
    expect(html).toMatch(/<input type="hidden" name="code" value="[^"]+">/);
    expect(html).toContain('<input type="hidden" name="state" value="fp">');
  });

  it("validates the authorize request (client, redirect URI, PKCE)", async () => {
    const base = `${sim.url}/organizations/oauth2/v2.0/authorize`;
    const q = (p: Record<string, string>) =>
      `${base}?${new URLSearchParams({ client_id: TEST_CLIENT.clientId, response_type: "code", redirect_uri: REDIRECT, scope: ARM_SCOPE, code_challenge: "a".repeat(43), code_challenge_method: "S256", ...p })}`;
    const badClient = await fetch(q({ client_id: "00000000-0000-4000-8000-000000000000" }));
    expect(badClient.status).toBe(400);
    expect(await badClient.text()).toContain("AADSTS700016");
    const badRedirect = await fetch(q({ redirect_uri: "https://evil.example.com/cb" }));
    expect(badRedirect.status).toBe(400);
    expect(await badRedirect.text()).toContain("AADSTS50011");
    const plain = await fetch(q({ code_challenge_method: "plain" }), { redirect: "manual" });
    expect(plain.status).toBe(302);
    expect(new URL(plain.headers.get("location") ?? "").searchParams.get("error")).toBe("invalid_request");
    const byDomain = await fetch(q({}).replace("/organizations/", "/contoso.onmicrosoft.com/"));
    expect(byDomain.status).toBe(200);
    const unknownTenant = await fetch(q({}).replace("/organizations/", "/nosuchtenant.onmicrosoft.com/"));
    expect(unknownTenant.status).toBe(400);
  });

  it("serves OIDC discovery, JWKS and logout like Entra", async () => {
    const tid = sim.state().scenario.tenant.id;
    const orgs = await simJson(sim, "GET", "/organizations/v2.0/.well-known/openid-configuration");
    expect(orgs.body.issuer).toBe(`${sim.url}/{tenantid}/v2.0`);
    expect(orgs.body.token_endpoint).toBe(`${sim.url}/organizations/oauth2/v2.0/token`);
    const tenant = await simJson(sim, "GET", `/${tid}/v2.0/.well-known/openid-configuration`);
    expect(tenant.body.issuer).toBe(`${sim.url}/${tid}/v2.0`);
    const keys = await simJson(sim, "GET", "/organizations/discovery/v2.0/keys");
    const jwk = keys.body.keys[0];
    expect(jwk).toMatchObject({ kty: "RSA", use: "sig", e: "AQAB" });
    // The published key verifies the simulator's tokens.
    const token = await simToken(sim, { upn: OWNER, resource: "arm" });
    const [h, p, sig] = token.split(".");
    expect(JSON.parse(Buffer.from(h ?? "", "base64url").toString()).kid).toBe(jwk.kid);
    const pub = crypto.createPublicKey({ key: jwk, format: "jwk" });
    expect(crypto.verify("RSA-SHA256", Buffer.from(`${h}.${p}`), pub, Buffer.from(sig ?? "", "base64url"))).toBe(true);
    const out = await simJson(
      sim,
      "GET",
      `/organizations/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent("http://localhost:3000/")}`,
    );
    expect(out.status).toBe(302);
    expect(out.headers.get("location")).toBe("http://localhost:3000/");
  });
});

async function tokenRequest(form: Record<string, string>, secret: string = TEST_CLIENT.clientSecret) {
  const res = await fetch(`${sim.url}/organizations/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: TEST_CLIENT.clientId, client_secret: secret, ...form }),
  });
  return { status: res.status, body: (await res.json()) as JsonBody };
}
