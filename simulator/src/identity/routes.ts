// Simulated Entra ID endpoints: authorize (sign-in page), token, logout, OIDC discovery, JWKS.
import crypto from "node:crypto";
import { z } from "zod";
import type { SimState } from "../state";
import type { ClientCredential, RawRequest, RawResponse } from "../server";
import { entraError } from "./errors";
import type { SigningKey } from "./keys";
import { errorPage, formPostPage, signInPage, signedOutPage } from "./pages";
import { RESOURCES, fullScope, parseScope } from "./resources";
import { findTenant, findUserAnywhere, scenarioTenants } from "./tenants";
import {
  ACCESS_TOKEN_SECONDS,
  clientInfo,
  consentedScopes,
  decideDelegated,
  grantedAppRoles,
  idTokenIssuer,
  mintAppAccessToken,
  mintIdToken,
  mintRefreshToken,
  mintUserAccessToken,
  readRefreshToken,
  recordConsent,
  type ScenarioUser,
  type TokenIssuer,
} from "./tokens";

export interface IdentityContext extends TokenIssuer {
  baseUrl: string;
  key: SigningKey;
  clients: ClientCredential[];
  state(): SimState;
}

interface AuthCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  objectId: string;
  /** The signed-in user's own tenant (a multi-tenant authority signs users of every tenant in). */
  tenantId: string;
  scopes: string[];
  nonce?: string;
  expiresAt: number;
  used: boolean;
}

const CODE_TTL_MS = 10 * 60 * 1000;
const ROUTE =
  /^\/([^/]+)\/(?:oauth2\/v2\.0\/(authorize|token|logout)|v2\.0\/\.well-known\/(openid-configuration)|discovery(?:\/v2\.0)?\/(keys)|discovery\/(instance))$/;

const authorizeSchema = z.object({
  client_id: z.string().min(1, "client_id is required"),
  response_type: z.string().default(""),
  redirect_uri: z.string().min(1, "redirect_uri is required"),
  scope: z.string().default(""),
  state: z.string().optional(),
  nonce: z.string().optional(),
  code_challenge: z.string().optional(),
  code_challenge_method: z.string().optional(),
  response_mode: z.string().optional(),
  client_info: z.string().optional(),
  prompt: z.string().optional(),
  login_upn: z.string().optional(),
});

const tokenSchema = z.discriminatedUnion("grant_type", [
  z.object({
    grant_type: z.literal("authorization_code"),
    code: z.string().min(1),
    redirect_uri: z.string().min(1),
    code_verifier: z.string().optional(),
    scope: z.string().default(""),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
  }),
  z.object({
    grant_type: z.literal("refresh_token"),
    refresh_token: z.string().min(1),
    scope: z.string().default(""),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
  }),
  z.object({
    grant_type: z.literal("client_credentials"),
    scope: z.string().min(1),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
  }),
]);

/** Only loopback redirect URIs: the simulator has no app registrations for the portal, any port is fine. */
export function isLoopbackRedirect(uri: string): boolean {
  try {
    const u = new URL(uri);
    return (u.protocol === "http:" || u.protocol === "https:") && (u.hostname === "localhost" || u.hostname === "127.0.0.1");
  } catch {
    return false;
  }
}

const splitScopes = (s: string) => s.split(/\s+/).filter(Boolean);

function html(status: number, body: string): RawResponse {
  return { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }, body };
}

/** Builds the identity endpoints of one simulator instance (auth codes live here, per process). */
export function createIdentity(ctx: IdentityContext) {
  const codes = new Map<string, AuthCode>();

  /** The tenant a path segment names, or undefined (organizations/common = the home tenant, any tenant id/domain). */
  function resolveTenant(segment: string): { id: string; displayName: string } | undefined {
    const scenario = ctx.state().scenario;
    if (isMultiTenant(segment)) return scenario.tenant;
    return findTenant(scenario, segment);
  }

  /** The tenant a grant is redeemed in: its user's own tenant, which a tenant-specific endpoint must name. */
  function grantTenant(segment: string, userTenantId: string): { id: string; displayName: string } | undefined {
    const own = findTenant(ctx.state().scenario, userTenantId);
    if (!own) return undefined;
    return isMultiTenant(segment) || own.id === resolveTenant(segment)?.id ? own : undefined;
  }

  /** Endpoints use "organizations"/"common" as given, a domain resolves to the tenant id (as Entra does). */
  function endpointSegment(segment: string, tenantId: string): string {
    const s = segment.toLowerCase();
    return s === "organizations" || s === "common" ? s : tenantId;
  }

  function tenantNotFound(segment: string): RawResponse {
    return entraError(
      400,
      "invalid_tenant",
      90002,
      `Tenant '${segment}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    );
  }

  function discovery(segment: string): RawResponse {
    const tenant = resolveTenant(segment);
    if (!tenant) return tenantNotFound(segment);
    const seg = endpointSegment(segment, tenant.id);
    const base = `${ctx.baseUrl}/${seg}`;
    // Entra's multi-tenant documents carry a templated issuer; clients substitute the token's tid.
    const issuer = seg === tenant.id ? idTokenIssuer(ctx, tenant.id) : `${ctx.baseUrl}/{tenantid}/v2.0`;
    return {
      status: 200,
      headers: { "cache-control": "max-age=86400, private" },
      body: {
        token_endpoint: `${base}/oauth2/v2.0/token`,
        token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        jwks_uri: `${base}/discovery/v2.0/keys`,
        response_modes_supported: ["query", "fragment", "form_post"],
        subject_types_supported: ["pairwise"],
        id_token_signing_alg_values_supported: ["RS256"],
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        issuer,
        request_uri_parameter_supported: false,
        userinfo_endpoint: `${ctx.baseUrl}/oidc/userinfo`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
        http_logout_supported: true,
        frontchannel_logout_supported: true,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        claims_supported: [
          "sub",
          "iss",
          "cloud_instance_name",
          "cloud_instance_host_name",
          "cloud_graph_host_name",
          "msgraph_host",
          "aud",
          "exp",
          "iat",
          "auth_time",
          "acr",
          "nonce",
          "preferred_username",
          "name",
          "tid",
          "ver",
          "at_hash",
          "c_hash",
          "email",
        ],
        kerberos_endpoint: `${base}/kerberos`,
        tenant_region_scope: "NA",
        cloud_instance_name: "microsoftonline.com",
        cloud_graph_host_name: "graph.windows.net",
        msgraph_host: "graph.microsoft.com",
        rbac_url: "https://pas.windows.net",
      },
    };
  }

  /**
   * Entra's instance discovery: the tenant discovery document of the authority named by `authorization_endpoint` when
   * this is one of its hosts, else invalid_instance (AADSTS50049). MSAL Python drops the port from that URL
   * (msal/authority.py), so hosts compare without ports. Real answers keep the tenant of the given URL, e.g.
   * {"tenant_discovery_endpoint":"https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration",
   * "api-version":"1.1","metadata":[…]} (Azure/azure-sdk-for-js identity test recordings).
   */
  function instanceDiscovery(req: RawRequest): RawResponse {
    const host = new URL(ctx.baseUrl).host;
    const asked = req.query.get("authorization_endpoint");
    let tenantSegment = "organizations";
    if (asked) {
      let url: URL | undefined;
      try {
        url = new URL(asked);
      } catch {
        url = undefined;
      }
      // The world-wide host is one of Entra's own: MSAL asks about it for its alias metadata (msal/application.py,
      // _get_instance_metadata). The simulator is the only Entra instance it knows.
      if (!url || ![new URL(ctx.baseUrl).hostname, "login.microsoftonline.com"].includes(url.hostname))
        return entraError(400, "invalid_instance", 50049, "Unknown or invalid instance.");
      tenantSegment = url.pathname.split("/").filter(Boolean)[0] ?? "organizations";
    }
    return {
      status: 200,
      body: {
        tenant_discovery_endpoint: `${ctx.baseUrl}/${encodeURIComponent(tenantSegment)}/v2.0/.well-known/openid-configuration`,
        "api-version": "1.1",
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      },
    };
  }

  function findUserById(objectId: string): ScenarioUser | undefined {
    return findUserAnywhere(ctx.state().scenario, { objectId })?.user;
  }

  /** Who may sign in at this segment: every tenant's users at organizations/common, else the named tenant's. */
  function signInUsers(segment: string, tenantId: string): { user: ScenarioUser; tenantId: string }[] {
    return scenarioTenants(ctx.state().scenario)
      .filter((t) => isMultiTenant(segment) || t.id === tenantId)
      .flatMap((t) => t.users.map((user) => ({ user, tenantId: t.id })));
  }

  /** Sends an error back to the client's redirect URI (for errors Entra does not show on its own page). */
  function redirectError(redirectUri: string, state: string | undefined, error: string, code: number, message: string): RawResponse {
    const u = new URL(redirectUri);
    u.searchParams.set("error", error);
    u.searchParams.set("error_description", `AADSTS${code}: ${message}`);
    if (state !== undefined) u.searchParams.set("state", state);
    return { status: 302, headers: { location: u.toString(), "cache-control": "no-store" } };
  }

  function authorize(req: RawRequest, segment: string): RawResponse {
    const tenant = resolveTenant(segment);
    if (!tenant) return html(400, errorPage(`AADSTS90002: Tenant '${segment}' not found.`));
    const params = req.method === "POST" ? new URLSearchParams(req.rawBody.toString("utf8")) : req.query;
    const parsed = authorizeSchema.safeParse(Object.fromEntries(params.entries()));
    if (!parsed.success) {
      return html(
        400,
        errorPage(
          `AADSTS900144: The request body must contain the following parameter: ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")}.`,
        ),
      );
    }
    const p = parsed.data;
    if (!ctx.clients.some((c) => c.clientId === p.client_id)) {
      return html(
        400,
        errorPage(
          `AADSTS700016: Application with identifier '${p.client_id}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
        ),
      );
    }
    if (!isLoopbackRedirect(p.redirect_uri)) {
      return html(
        400,
        errorPage(
          `AADSTS50011: The redirect URI '${p.redirect_uri}' specified in the request does not match the redirect URIs configured for the application '${p.client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. (The simulator accepts http(s)://localhost:* and http(s)://127.0.0.1:* only.)`,
        ),
      );
    }
    if (p.response_type !== "code") {
      return redirectError(
        p.redirect_uri,
        p.state,
        "unsupported_response_type",
        700054,
        `response_type '${p.response_type}' is not enabled for the application. The simulator supports the authorization code flow only.`,
      );
    }
    if (!p.code_challenge || p.code_challenge_method !== "S256") {
      return redirectError(
        p.redirect_uri,
        p.state,
        "invalid_request",
        9002325,
        "Proof Key for Code Exchange is required: send code_challenge with code_challenge_method=S256.",
      );
    }
    if (p.response_mode && !["query", "form_post"].includes(p.response_mode)) {
      return redirectError(
        p.redirect_uri,
        p.state,
        "invalid_request",
        900144,
        `response_mode '${p.response_mode}' is not supported by the simulator (query, form_post).`,
      );
    }
    const action = `/${encodeURIComponent(segment)}/oauth2/v2.0/authorize`;
    const candidates = signInUsers(segment, tenant.id);
    const users = candidates.map((c) => c.user);
    if (req.method !== "POST" || p.login_upn === undefined) {
      if (p.prompt === "none")
        return redirectError(
          p.redirect_uri,
          p.state,
          "login_required",
          50058,
          "A silent sign-in request was sent but no user is signed in.",
        );
      return html(200, signInPage({ tenantName: tenant.displayName, action, params, users }));
    }
    const match = candidates.find((c) => c.user.upn.toLowerCase() === (p.login_upn ?? "").toLowerCase());
    if (!match) {
      return html(
        400,
        signInPage({
          tenantName: tenant.displayName,
          action,
          params,
          users,
          error: `AADSTS50034: The user account ${p.login_upn} does not exist in the ${tenant.displayName} directory.`,
        }),
      );
    }
    const { user, tenantId: userTenantId } = match;
    const scopes = splitScopes(p.scope);
    recordConsent(ctx.state(), user.objectId, p.client_id, scopes);
    const code = crypto.randomBytes(48).toString("base64url");
    for (const [k, c] of codes) if (c.expiresAt < Date.now()) codes.delete(k);
    codes.set(code, {
      clientId: p.client_id,
      redirectUri: p.redirect_uri,
      codeChallenge: p.code_challenge,
      objectId: user.objectId,
      tenantId: userTenantId,
      scopes,
      nonce: p.nonce,
      expiresAt: Date.now() + CODE_TTL_MS,
      used: false,
    });
    const fields: Record<string, string> = { code };
    if (p.client_info === "1") fields.client_info = clientInfo(user.objectId, userTenantId);
    if (p.state !== undefined) fields.state = p.state;
    fields.session_state = crypto.randomUUID();
    if (p.response_mode === "form_post") return html(200, formPostPage(p.redirect_uri, fields));
    const u = new URL(p.redirect_uri);
    for (const [k, v] of Object.entries(fields)) u.searchParams.set(k, v);
    return { status: 302, headers: { location: u.toString(), "cache-control": "no-store" } };
  }

  /** Client authentication of the token endpoint: client_secret_post or client_secret_basic. */
  function clientCredentialsOf(
    req: RawRequest,
    form: { client_id?: string; client_secret?: string },
  ): { clientId?: string; secret?: string } {
    const auth = req.headers.authorization;
    if (auth?.toLowerCase().startsWith("basic ")) {
      const decoded = Buffer.from(auth.slice(6), "base64").toString("utf8");
      const i = decoded.indexOf(":");
      if (i > 0) return { clientId: decodeURIComponent(decoded.slice(0, i)), secret: decodeURIComponent(decoded.slice(i + 1)) };
    }
    return { clientId: form.client_id, secret: form.client_secret };
  }

  function invalidSecret(clientId: string): RawResponse {
    return entraError(
      401,
      "invalid_client",
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    );
  }

  function unknownClient(clientId: string, tenantName: string): RawResponse {
    return entraError(
      400,
      "unauthorized_client",
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenantName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }

  /** Authenticates one of the configured (portal) clients. */
  function authenticatePortalClient(clientId: string | undefined, secret: string | undefined, tenantName: string): RawResponse | undefined {
    if (!clientId) return entraError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.");
    const client = ctx.clients.find((c) => c.clientId === clientId);
    if (!client) return unknownClient(clientId, tenantName);
    if (!secret)
      return entraError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    const a = Buffer.from(secret);
    const b = Buffer.from(client.clientSecret);
    if (a.length !== b.length || !crypto.timingSafeEqual(a, b)) return invalidSecret(clientId);
    return undefined;
  }

  function delegatedResponse(
    tenantId: string,
    user: ScenarioUser,
    clientId: string,
    requested: string[],
    consentedExtra: string[],
    nonce?: string,
  ): RawResponse {
    const consented = consentedScopes(ctx.state(), user.objectId, clientId, consentedExtra);
    const decision = decideDelegated(requested, consented, clientId);
    if (!decision.ok) return entraError(400, decision.error, decision.code, decision.message);
    const accessToken = mintUserAccessToken(ctx, { tenantId, user, clientId, resource: decision.resource, scp: decision.scp });
    const scope = decision.scp
      .filter((s) => !["openid", "profile", "email"].includes(s))
      .map((s) => fullScope(decision.resource, s))
      .join(" ");
    return {
      status: 200,
      headers: { "cache-control": "no-store, no-cache", pragma: "no-cache" },
      body: {
        token_type: "Bearer",
        scope: scope || RESOURCES[decision.resource].scopePrefix + ".default",
        expires_in: ACCESS_TOKEN_SECONDS,
        ext_expires_in: ACCESS_TOKEN_SECONDS,
        access_token: accessToken,
        refresh_token: mintRefreshToken(ctx, { tenantId, objectId: user.objectId, clientId, consented: [...consented] }),
        id_token: mintIdToken(ctx, { tenantId, user, clientId, nonce }),
        client_info: clientInfo(user.objectId, tenantId),
      },
    };
  }

  function token(req: RawRequest, segment: string): RawResponse {
    const tenant = resolveTenant(segment);
    if (!tenant) return tenantNotFound(segment);
    if (req.method !== "POST") return entraError(405, "invalid_request", 900561, "The endpoint only accepts POST requests.");
    const form = Object.fromEntries(new URLSearchParams(req.rawBody.toString("utf8")).entries());
    if (!form.grant_type)
      return entraError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.");
    if (!["authorization_code", "refresh_token", "client_credentials"].includes(form.grant_type)) {
      return entraError(400, "unsupported_grant_type", 70003, `The app requested an unsupported grant type '${form.grant_type}'.`);
    }
    const parsed = tokenSchema.safeParse(form);
    if (!parsed.success) {
      return entraError(
        400,
        "invalid_request",
        900144,
        `The request body must contain the following parameter: '${parsed.error.issues.map((i) => i.path.join(".")).join("', '")}'.`,
      );
    }
    const body = parsed.data;
    body.scope = graphAtOwnUrl(body.scope);
    const { clientId, secret } = clientCredentialsOf(req, body);

    if (body.grant_type === "client_credentials") return clientCredentials(tenant, clientId, secret, body.scope);

    const authError = authenticatePortalClient(clientId, secret, tenant.displayName);
    if (authError || !clientId) return authError ?? unknownClient("", tenant.displayName);

    if (body.grant_type === "authorization_code") {
      const code = codes.get(body.code);
      if (!code)
        return entraError(
          400,
          "invalid_grant",
          9002313,
          "Invalid request. Request is malformed or invalid. - The provided value for the 'code' parameter is not valid.",
        );
      if (code.used)
        return entraError(
          400,
          "invalid_grant",
          54005,
          "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        );
      if (code.expiresAt < Date.now()) {
        codes.delete(body.code);
        return entraError(
          400,
          "invalid_grant",
          70008,
          "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        );
      }
      if (code.clientId !== clientId)
        return entraError(
          400,
          "invalid_grant",
          70000,
          "The provided value for the 'code' parameter is not valid. The code was issued to a different client.",
        );
      if (code.redirectUri !== body.redirect_uri) {
        return entraError(
          400,
          "invalid_grant",
          500112,
          `The reply address '${body.redirect_uri}' does not match the reply address '${code.redirectUri}' provided when requesting Authorization code.`,
        );
      }
      if (!body.code_verifier)
        return entraError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'code_verifier'.");
      const challenge = crypto.createHash("sha256").update(body.code_verifier).digest("base64url");
      // A failed redemption burns the code too, as Entra does for replay protection.
      code.used = true;
      if (challenge !== code.codeChallenge)
        return entraError(
          400,
          "invalid_grant",
          501481,
          "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        );
      const user = findUserById(code.objectId);
      if (!user) return entraError(400, "invalid_grant", 50034, "The user account does not exist in the directory.");
      const userTenant = grantTenant(segment, code.tenantId);
      if (!userTenant)
        return entraError(
          400,
          "invalid_grant",
          9002313,
          "Invalid request. Request is malformed or invalid. - The provided value for the 'code' parameter is not valid.",
        );
      const requested = splitScopes(body.scope).length ? splitScopes(body.scope) : code.scopes;
      return delegatedResponse(userTenant.id, user, clientId, requested, [], code.nonce);
    }

    const rt = readRefreshToken(ctx, body.refresh_token);
    const rtTenant = rt ? grantTenant(segment, rt.tenantId) : undefined;
    if (!rt || !rtTenant)
      return entraError(
        400,
        "invalid_grant",
        9002313,
        "Invalid request. Request is malformed or invalid. - The provided refresh token is not valid.",
      );
    if (rt.clientId !== clientId)
      return entraError(
        400,
        "invalid_grant",
        70000,
        "Provided grant is invalid or malformed. The refresh token was issued to a different client.",
      );
    const user = findUserById(rt.objectId);
    if (!user) return entraError(400, "invalid_grant", 50034, "The user account does not exist in the directory.");
    return delegatedResponse(rtTenant.id, user, clientId, splitScopes(body.scope), rt.consented);
  }

  /** client_credentials for an app registration created through the simulated Graph (or a configured client). */
  function clientCredentials(
    tenant: { id: string; displayName: string },
    clientId: string | undefined,
    secret: string | undefined,
    scope: string,
  ): RawResponse {
    if (!clientId) return entraError(400, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.");
    const scopes = splitScopes(scope);
    const parsedScope = scopes.length === 1 && scopes[0] ? parseScope(scopes[0]) : undefined;
    if (!parsedScope || parsedScope.kind !== "resource" || parsedScope.name !== ".default") {
      return entraError(
        400,
        "invalid_scope",
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
      );
    }
    const state = ctx.state();
    const resource = parsedScope.resource;
    if (ctx.clients.some((c) => c.clientId === clientId)) {
      const authError = authenticatePortalClient(clientId, secret, tenant.displayName);
      if (authError) return authError;
      const spId = deterministicUuid(`portal-sp|${clientId}|${tenant.id}`);
      return appTokenResponse(tenant.id, clientId, spId, resource, []);
    }
    // Apps created through the simulated Graph live in the home tenant only.
    const app = tenant.id === state.scenario.tenant.id ? state.graph.applications.find((a) => a.appId === clientId) : undefined;
    if (!app) return unknownClient(clientId, tenant.displayName);
    if (!secret)
      return entraError(
        401,
        "invalid_client",
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    const now = Date.now();
    const match = state.secrets.find((s) => s.appId === clientId && s.secretText === secret && Date.parse(s.endDateTime) > now);
    if (!match) {
      const expired = state.secrets.some((s) => s.appId === clientId && s.secretText === secret);
      if (expired)
        return entraError(
          401,
          "invalid_client",
          7000222,
          `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app.`,
        );
      return invalidSecret(clientId);
    }
    // Entra answers a secret younger than its replication exactly like a wrong one (AADSTS7000215).
    if (match.createdAt !== undefined && now - match.createdAt < (state.latency.secretPropagationMs ?? 0)) return invalidSecret(clientId);
    const sp = state.graph.servicePrincipals.find((s) => s.appId === clientId);
    if (!sp)
      return entraError(
        401,
        "invalid_client",
        7000229,
        `The client application ${clientId} is missing service principal in the tenant ${tenant.id}.`,
      );
    return appTokenResponse(tenant.id, clientId, sp.id, resource, grantedAppRoles(state, sp.id, resource));
  }

  function appTokenResponse(tenantId: string, appId: string, spId: string, resource: keyof typeof RESOURCES, roles: string[]): RawResponse {
    return {
      status: 200,
      headers: { "cache-control": "no-store, no-cache", pragma: "no-cache" },
      body: {
        token_type: "Bearer",
        expires_in: ACCESS_TOKEN_SECONDS,
        ext_expires_in: ACCESS_TOKEN_SECONDS,
        access_token: mintAppAccessToken(ctx, { tenantId, appId, servicePrincipalId: spId, resource, roles }),
      },
    };
  }

  /**
   * Scopes on the simulator's own URL name Microsoft Graph: a custom az cloud's Graph resource id is also Graph's
   * endpoint (az 2.45's GraphClient takes both from `microsoft_graph_resource_id`:
   * azure-cli src/azure-cli/azure/cli/command_modules/role/_msgrpah/_graph_client.py), and Graph is served here at /v1.0.
   */
  function graphAtOwnUrl(scope: string): string {
    const own = `${ctx.baseUrl.toLowerCase()}/`;
    return splitScopes(scope)
      .map((s) => (s.toLowerCase().startsWith(own) ? RESOURCES.graph.scopePrefix + s.slice(own.length).replace(/^\/+/, "") : s))
      .join(" ");
  }

  function logout(req: RawRequest): RawResponse {
    const target =
      req.query.get("post_logout_redirect_uri") ?? new URLSearchParams(req.rawBody.toString("utf8")).get("post_logout_redirect_uri");
    if (target && isLoopbackRedirect(target)) {
      const u = new URL(target);
      const state = req.query.get("state");
      if (state) u.searchParams.set("state", state);
      return { status: 302, headers: { location: u.toString(), "cache-control": "no-store" } };
    }
    return html(200, signedOutPage());
  }

  return {
    /** Answers identity paths; undefined for any other path. */
    handle(req: RawRequest): RawResponse | undefined {
      const m = ROUTE.exec(req.path);
      if (!m) return undefined;
      const segment = decodeURIComponent(m[1] ?? "");
      if (m[2] === "authorize") return authorize(req, segment);
      if (m[2] === "token") return token(req, segment);
      if (m[2] === "logout") return logout(req);
      if (m[3]) return discovery(segment);
      if (m[4]) {
        const keyTenant = resolveTenant(segment);
        if (!keyTenant) return tenantNotFound(segment);
        return {
          status: 200,
          headers: { "cache-control": "max-age=86400, private" },
          body: { keys: [{ ...ctx.key.jwk, issuer: idTokenIssuer(ctx, keyTenant.id) }] },
        };
      }
      if (m[5]) return instanceDiscovery(req);
      return undefined;
    },
  };
}

export type Identity = ReturnType<typeof createIdentity>;

/** organizations/common: Entra's multi-tenant endpoints. */
function isMultiTenant(segment: string): boolean {
  const s = segment.toLowerCase();
  return s === "organizations" || s === "common";
}

/** A UUID derived from a string (for ids that must stay stable across restarts). */
export function deterministicUuid(seed: string): string {
  const h = crypto.createHash("sha256").update(seed).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}
