// Minting of Entra-shaped tokens: access tokens (v1, as ARM/Graph get them), id tokens (v2), refresh tokens.
import crypto from "node:crypto";
import { LOG_ANALYTICS_DATA_READ_ROLE_ID, type Scenario } from "../contract";
import type { GraphObject, SimState } from "../state";
import { signJwt, verifyJwt, type JwtClaims } from "./jwt";
import type { SigningKey } from "./keys";
import { RESOURCES, fullScope, parseScope, type ResourceKind } from "./resources";

export const ACCESS_TOKEN_SECONDS = 3600;
const REFRESH_TOKEN_SECONDS = 90 * 24 * 3600;

export type ScenarioUser = Scenario["users"][number];

/** What token minting needs from the running simulator. */
export interface TokenIssuer {
  baseUrl: string;
  key: SigningKey;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Entra's pairwise `sub`: stable per (principal, client), opaque to the client. */
function pairwiseSub(objectId: string, clientId: string): string {
  return crypto.createHash("sha256").update(`${objectId}|${clientId}`).digest("base64url").slice(0, 43);
}

/** v1 issuer, as ARM and Graph access tokens carry it. */
export function accessTokenIssuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

/** v2 issuer of id tokens and of the OIDC discovery document. */
export function idTokenIssuer(issuer: TokenIssuer, tenantId: string): string {
  return `${issuer.baseUrl}/${tenantId}/v2.0`;
}

/** A delegated (user) access token for one resource. */
export function mintUserAccessToken(
  issuer: TokenIssuer,
  args: { tenantId: string; user: ScenarioUser; clientId: string; resource: ResourceKind; scp: string[]; lifetimeSeconds?: number },
): string {
  const iat = nowSeconds();
  const [given, ...rest] = args.user.displayName.split(" ");
  const claims: JwtClaims = {
    aud: RESOURCES[args.resource].audience,
    iss: accessTokenIssuer(args.tenantId),
    iat,
    nbf: iat,
    exp: iat + (args.lifetimeSeconds ?? ACCESS_TOKEN_SECONDS),
    acr: "1",
    amr: ["pwd", "mfa"],
    appid: args.clientId,
    appidacr: "1",
    family_name: rest.join(" ") || undefined,
    given_name: given,
    idtyp: "user",
    ipaddr: "127.0.0.1",
    name: args.user.displayName,
    oid: args.user.objectId,
    scp: args.scp.join(" "),
    sub: pairwiseSub(args.user.objectId, args.clientId),
    tid: args.tenantId,
    unique_name: args.user.upn,
    upn: args.user.upn,
    uti: crypto.randomBytes(16).toString("base64url"),
    ver: "1.0",
  };
  return signJwt(claims, issuer.key);
}

/** An application (client credentials) access token; `roles` is omitted when empty, as Entra does. */
export function mintAppAccessToken(
  issuer: TokenIssuer,
  args: { tenantId: string; appId: string; servicePrincipalId: string; resource: ResourceKind; roles: string[]; lifetimeSeconds?: number },
): string {
  const iat = nowSeconds();
  const claims: JwtClaims = {
    aud: RESOURCES[args.resource].audience,
    iss: accessTokenIssuer(args.tenantId),
    iat,
    nbf: iat,
    exp: iat + (args.lifetimeSeconds ?? ACCESS_TOKEN_SECONDS),
    appid: args.appId,
    appidacr: "1",
    idp: accessTokenIssuer(args.tenantId),
    idtyp: "app",
    oid: args.servicePrincipalId,
    sub: args.servicePrincipalId,
    tid: args.tenantId,
    uti: crypto.randomBytes(16).toString("base64url"),
    ver: "1.0",
    ...(args.roles.length ? { roles: args.roles } : {}),
  };
  return signJwt(claims, issuer.key);
}

/** The v2 id token returned with code and refresh redemptions. */
export function mintIdToken(issuer: TokenIssuer, args: { tenantId: string; user: ScenarioUser; clientId: string; nonce?: string }): string {
  const iat = nowSeconds();
  return signJwt(
    {
      ver: "2.0",
      iss: idTokenIssuer(issuer, args.tenantId),
      sub: pairwiseSub(args.user.objectId, args.clientId),
      aud: args.clientId,
      exp: iat + ACCESS_TOKEN_SECONDS,
      iat,
      nbf: iat,
      name: args.user.displayName,
      preferred_username: args.user.upn,
      oid: args.user.objectId,
      tid: args.tenantId,
      ...(args.nonce ? { nonce: args.nonce } : {}),
      aio: crypto.randomBytes(24).toString("base64url"),
    },
    issuer.key,
  );
}

/** base64url {"uid","utid"}: MSAL builds the account's home id from it. */
export function clientInfo(objectId: string, tenantId: string): string {
  return Buffer.from(JSON.stringify({ uid: objectId, utid: tenantId })).toString("base64url");
}

export interface RefreshTokenData {
  tenantId: string;
  objectId: string;
  clientId: string;
  /** Consented scopes (full strings) at issuance; survives a simulator restart with the token. */
  consented: string[];
}

/** Refresh tokens are opaque to clients; here they are signed so they survive a restart. */
export function mintRefreshToken(issuer: TokenIssuer, data: RefreshTokenData): string {
  const iat = nowSeconds();
  return signJwt(
    {
      typ: "rt",
      tid: data.tenantId,
      oid: data.objectId,
      cid: data.clientId,
      scp: data.consented,
      iat,
      exp: iat + REFRESH_TOKEN_SECONDS,
      jti: crypto.randomUUID(),
    },
    issuer.key,
  );
}

export function readRefreshToken(issuer: TokenIssuer, token: string): RefreshTokenData | undefined {
  const r = verifyJwt(token, issuer.key);
  if (!r.ok || r.claims.typ !== "rt") return undefined;
  const { tid, oid, cid, scp } = r.claims;
  if (typeof tid !== "string" || typeof oid !== "string" || typeof cid !== "string" || !Array.isArray(scp)) return undefined;
  return { tenantId: tid, objectId: oid, clientId: cid, consented: scp.filter((s): s is string => typeof s === "string") };
}

const consentKey = (objectId: string, clientId: string) => `${objectId}|${clientId}`;

/** Record the delegated scopes a user consented to for a client (from the authorize request's `scope`). */
export function recordConsent(state: SimState, objectId: string, clientId: string, scopes: string[]): string[] {
  const key = consentKey(objectId, clientId);
  const set = state.consents.get(key) ?? new Set<string>();
  for (const raw of scopes) {
    const p = parseScope(raw);
    if (p.kind === "resource" && p.name !== ".default") set.add(fullScope(p.resource, p.name));
  }
  state.consents.set(key, set);
  return [...set];
}

export function consentedScopes(state: SimState, objectId: string, clientId: string, extra: string[] = []): Set<string> {
  return new Set([...(state.consents.get(consentKey(objectId, clientId)) ?? []), ...extra]);
}

export type ScopeDecision =
  { ok: true; resource: ResourceKind; scp: string[] } | { ok: false; code: number; error: string; message: string };

/**
 * Decide the resource and `scp` of a delegated token for the requested scopes.
 * Entra issues one token per resource and returns every consented scope of that resource, not only the requested ones.
 */
export function decideDelegated(requested: string[], consented: Set<string>, clientId: string): ScopeDecision {
  const parsed = requested.map(parseScope);
  const unknown = parsed.find((p) => p.kind === "unknown");
  if (unknown && unknown.kind === "unknown") {
    return {
      ok: false,
      code: 500011,
      error: "invalid_resource",
      message: `The resource principal named ${unknown.raw} was not found in the tenant.`,
    };
  }
  const resourceScopes = parsed.filter((p): p is Extract<typeof p, { kind: "resource" }> => p.kind === "resource");
  const resources = [...new Set(resourceScopes.map((p) => p.resource))];
  if (resources.length > 1) {
    return {
      ok: false,
      code: 28000,
      error: "invalid_scope",
      message:
        "Provided value for the input parameter scope is not valid because it contains more than one resource. Scope " +
        requested.join(" ") +
        " is not valid.",
    };
  }
  const resource = resources[0] ?? "graph";
  const names = resourceScopes.map((p) => p.name);
  const consentedNames = [...consented].map(parseScope).flatMap((p) => (p.kind === "resource" && p.resource === resource ? [p.name] : []));
  if (resource === "arm" || resource === "storage") return { ok: true, resource, scp: ["user_impersonation"] };
  if (resource === "loganalytics")
    return {
      ok: true,
      resource,
      scp: names.filter((n) => n !== ".default").length ? names.filter((n) => n !== ".default") : ["Data.Read"],
    };
  if (names.length === 0) return { ok: true, resource, scp: [...consentedNames, "openid", "profile", "email"] };
  const missing = names.filter((n) => n !== ".default" && !consentedNames.includes(n));
  if (missing.length || consentedNames.length === 0) {
    return {
      ok: false,
      code: 65001,
      error: "invalid_grant",
      message: `The user or administrator has not consented to use the application with ID '${clientId}'. Send an interactive authorization request for this user and resource.`,
    };
  }
  return { ok: true, resource, scp: consentedNames };
}

/** The app roles granted to an application's service principal on a resource (from Graph appRoleAssignments). */
export function grantedAppRoles(state: SimState, servicePrincipalId: string, resource: ResourceKind): string[] {
  const resourceSp = state.graph.servicePrincipals.find((sp) => sp.appId === RESOURCES[resource].appId);
  if (!resourceSp) return [];
  const appRoles = Array.isArray(resourceSp.appRoles) ? (resourceSp.appRoles as GraphObject[]) : [];
  return state.graph.appRoleAssignments
    .filter((a) => a.principalId === servicePrincipalId && a.resourceId === resourceSp.id && a.deletedDateTime == null)
    .map((a) => {
      const role = appRoles.find((r) => r.id === a.appRoleId);
      if (role && typeof role.value === "string") return role.value;
      return a.appRoleId === LOG_ANALYTICS_DATA_READ_ROLE_ID ? "Data.Read" : undefined;
    })
    .filter((v): v is string => typeof v === "string");
}
