// GET /tenants (the caller's tenants, with display names), and what tokens of an extra tenant may reach.
import type { SimResponse } from "../contract";
import { findTenant } from "../identity/tenants";
import type { ArmContext } from "./context";
import { API_VERSIONS, armError, checkApiVersion, list, methodNotAllowed } from "./http";

/** GET /tenants: Azure lists the tenants the account belongs to; a scenario user belongs to exactly one. */
export function handleTenants(ctx: ArmContext): SimResponse {
  const bad = checkApiVersion(ctx.req, API_VERSIONS.subscriptions);
  if (bad) return bad;
  if (ctx.req.method !== "GET" || ctx.seg.length > 1) return methodNotAllowed(ctx.req.method);
  const tenant = findTenant(ctx.state.scenario, ctx.caller.tenantId);
  if (!tenant) return list([]);
  return list([
    {
      id: `/tenants/${tenant.id}`,
      tenantId: tenant.id,
      countryCode: "US",
      displayName: tenant.displayName,
      domains: [tenant.domain],
      tenantCategory: "Home",
      defaultDomain: tenant.domain,
      tenantType: "AAD",
    },
  ]);
}

/**
 * A token of an extra tenant (no subscriptions in this simulator): GET /subscriptions lists nothing, and anything
 * under a subscription answers ARM's wrong-tenant 401, as a customer's subscription does for a foreign token.
 */
export function foreignTenantGuard(ctx: ArmContext): SimResponse | undefined {
  const home = ctx.state.scenario.tenant.id;
  if (ctx.caller.tenantId === home) return undefined;
  if (ctx.low.length === 1 && ctx.low[0] === "subscriptions" && ctx.req.method === "GET") {
    return checkApiVersion(ctx.req, API_VERSIONS.subscriptions) ?? list([]);
  }
  return armError(
    401,
    "InvalidAuthenticationTokenTenant",
    `The access token is from the wrong issuer 'https://sts.windows.net/${ctx.caller.tenantId}/'. It must match the tenant 'https://sts.windows.net/${home}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${home}' to get the token.`,
  );
}
