// Bearer-token validation for ARM and Graph requests, with the 401 bodies each service really sends.
import crypto from "node:crypto";
import type { Caller } from "../contract";
import type { SimState } from "../state";
import type { RawResponse } from "../server";
import { verifyJwt } from "./jwt";
import type { SigningKey } from "./keys";
import { resourceOf, type ResourceKind } from "./resources";
import { findTenant } from "./tenants";

export type VerifyOutcome = { ok: true; caller: Caller } | { ok: false; response: RawResponse };

const ARM_AUDIENCES =
  "'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'";

function armUnauthorized(baseUrl: string, code: string, message: string): RawResponse {
  return {
    status: 401,
    headers: {
      "www-authenticate": `Bearer authorization_uri="${baseUrl}/", error="invalid_token", error_description="${message.replace(/"/g, "'")}"`,
    },
    body: { error: { code, message } },
  };
}

function graphUnauthorized(baseUrl: string, message: string): RawResponse {
  const date = new Date().toISOString().replace(/\.\d+Z$/, "");
  return {
    status: 401,
    headers: {
      "www-authenticate": `Bearer realm="", authorization_uri="${baseUrl}/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`,
    },
    body: {
      error: {
        code: "InvalidAuthenticationToken",
        message,
        innerError: { date, "request-id": crypto.randomUUID(), "client-request-id": crypto.randomUUID() },
      },
    },
  };
}

/** Validate the Authorization header for `service` and build the handlers' Caller. */
export function verifyBearer(args: {
  authorization: string | undefined;
  service: Exclude<ResourceKind, "loganalytics" | "storage">;
  key: SigningKey;
  baseUrl: string;
  state: SimState;
}): VerifyOutcome {
  const { service, baseUrl } = args;
  const fail = (armCode: string, armMessage: string, graphMessage: string): VerifyOutcome => ({
    ok: false,
    response: service === "arm" ? armUnauthorized(baseUrl, armCode, armMessage) : graphUnauthorized(baseUrl, graphMessage),
  });
  const header = args.authorization ?? "";
  if (!header)
    return fail("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.", "Access token is empty.");
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m?.[1])
    return fail(
      "AuthenticationFailed",
      "Authentication failed. The 'Authorization' header is provided in an invalid format.",
      "Access token validation failure.",
    );
  const result = verifyJwt(m[1], args.key);
  if (!result.ok) {
    if (result.reason === "expired") {
      // ARM names expiry with its own code; Graph keeps InvalidAuthenticationToken.
      return fail(
        "ExpiredAuthenticationToken",
        `The access token expiry UTC time '${new Date().toUTCString()}' is earlier than current UTC time '${new Date().toUTCString()}'.`,
        "Lifetime validation failed, the token is expired.",
      );
    }
    if (result.reason === "malformed")
      return fail("InvalidAuthenticationToken", "The access token is invalid.", "IDX14100: JWT is not well formed.");
    return fail("InvalidAuthenticationToken", "The access token is invalid.", "Access token validation failure.");
  }
  const c = result.claims;
  const aud = typeof c.aud === "string" ? c.aud : "";
  if (resourceOf(aud) !== service) {
    return fail(
      "InvalidAuthenticationToken",
      `The access token has been obtained for wrong audience or resource '${aud}'. It should exactly match with one of the allowed audiences ${ARM_AUDIENCES}.`,
      "Access token validation failure. Invalid audience.",
    );
  }
  const tenantId = args.state.scenario.tenant.id;
  // An extra tenant's user (no subscriptions here) may still call ARM's tenant-level routes; handleArm limits them.
  const extraTenant =
    service === "arm" && typeof c.tid === "string" && c.tid !== tenantId ? findTenant(args.state.scenario, c.tid) : undefined;
  if (c.tid !== tenantId && !extraTenant) {
    return fail(
      "InvalidAuthenticationTokenTenant",
      `The access token is from the wrong issuer '${String(c.iss)}'. It must match the tenant 'https://sts.windows.net/${tenantId}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${tenantId}' to get the token.`,
      "Access token validation failure. Invalid issuer.",
    );
  }
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  const caller: Caller = {
    kind: c.idtyp === "app" ? "app" : "user",
    tenantId: extraTenant?.id ?? tenantId,
    objectId: str(c.oid),
    appId: str(c.appid),
    upn: typeof c.upn === "string" ? c.upn : undefined,
    scopes: str(c.scp).split(" ").filter(Boolean),
    roles: Array.isArray(c.roles) ? c.roles.filter((r): r is string => typeof r === "string") : [],
    audience: service,
  };
  return { ok: true, caller };
}
