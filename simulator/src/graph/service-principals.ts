// Service principals: create (with Entra's replication window), get (id, appId), list/$filter, update, delete.
import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { Caller, SimRequest, SimResponse } from "../contract";
import type { GraphObject, SimState } from "../state";
import { handleAppRoleAssignedTo, handleAppRoleAssignments } from "./app-role-assignments";
import {
  APP_READ,
  APP_WRITE,
  applyFilter,
  badRequest,
  collection,
  entity,
  graphError,
  hasPermission,
  headerOf,
  insufficientPrivileges,
  invalidObjectId,
  resourceNotFound,
} from "./http";
import { FIRST_PARTY, firstPartyServicePrincipal, servicePrincipalObject } from "./seed";

const createSchema = z.looseObject({
  appId: z.string().min(1),
  tags: z.array(z.string()).optional(),
  appRoleAssignmentRequired: z.boolean().optional(),
  notes: z.string().nullish(),
  description: z.string().nullish(),
});
const patchSchema = z.looseObject({
  tags: z.array(z.string()).optional(),
  appRoleAssignmentRequired: z.boolean().optional(),
  accountEnabled: z.boolean().optional(),
  notes: z.string().nullish(),
  description: z.string().nullish(),
});

export function findServicePrincipal(state: SimState, key: { name?: string; value: string }): GraphObject | undefined {
  const v = key.value.toLowerCase();
  const prop = key.name?.toLowerCase() === "appid" ? "appId" : "id";
  return state.graph.servicePrincipals.find((s) => typeof s[prop] === "string" && (s[prop] as string).toLowerCase() === v);
}

function noBackingApplication(appId: string): SimResponse {
  const message = `The appId '${appId}' of the service principal does not reference a valid application object.`;
  return graphError(400, "Request_BadRequest", message, [{ code: "NoBackingApplicationObject", message, target: "appId" }]);
}

/** /v1.0/servicePrincipals… */
export function handleServicePrincipals(
  req: SimRequest,
  state: SimState,
  caller: Caller,
  key: { name?: string; value: string } | undefined,
  rest: string[],
): SimResponse {
  const nav = rest[0]?.toLowerCase();
  if (key && nav === "approleassignedto") {
    const sp = findServicePrincipal(state, key);
    return handleAppRoleAssignedTo(req, state, caller, sp, key.value, rest.slice(1));
  }
  if (key && nav === "approleassignments" && rest.length === 1) {
    const sp = findServicePrincipal(state, key);
    return handleAppRoleAssignments(req, state, caller, sp, key.value);
  }
  if (rest.length > 0) return resourceNotFound(rest[0] ?? "");
  const write = req.method !== "GET";
  if (!hasPermission(caller, write ? APP_WRITE : APP_READ)) return insufficientPrivileges();

  if (!key) {
    if (req.method === "GET") {
      const filtered = applyFilter(req, state.graph.servicePrincipals);
      return Array.isArray(filtered) ? collection(req, "servicePrincipals", filtered) : filtered;
    }
    if (req.method !== "POST") return graphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.");
    return createServicePrincipal(req, state);
  }
  const invalid = invalidObjectId(key);
  if (invalid) return invalid;
  const sp = findServicePrincipal(state, key);
  switch (req.method) {
    case "GET":
      return sp ? entity(req, "servicePrincipals", sp) : resourceNotFound(key.value);
    case "DELETE": {
      if (!sp) return resourceNotFound(key.value);
      state.graph.servicePrincipals.splice(state.graph.servicePrincipals.indexOf(sp), 1);
      for (let i = state.graph.appRoleAssignments.length - 1; i >= 0; i--) {
        const a = state.graph.appRoleAssignments[i];
        if (a && (a.principalId === sp.id || a.resourceId === sp.id)) state.graph.appRoleAssignments.splice(i, 1);
      }
      return { status: 204 };
    }
    case "PATCH": {
      if (!sp) {
        // Upsert: PATCH /servicePrincipals(appId='…') with Prefer: create-if-missing creates it (201), like POST.
        const prefer = headerOf(req, "prefer") ?? "";
        if (key.name?.toLowerCase() !== "appid" || !/create-if-missing/i.test(prefer)) return resourceNotFound(key.value);
        return createServicePrincipal({ ...req, body: { ...((req.body as object | undefined) ?? {}), appId: key.value } }, state);
      }
      const parsed = patchSchema.safeParse(req.body ?? {});
      if (!parsed.success) return badRequest("Invalid value specified for a property of resource 'ServicePrincipal'.");
      for (const [k, v] of Object.entries(parsed.data)) if (!["id", "appId", "createdDateTime"].includes(k) && v !== undefined) sp[k] = v;
      return { status: 204 };
    }
    default:
      return graphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.");
  }
}

function createServicePrincipal(req: SimRequest, state: SimState): SimResponse {
  const parsed = createSchema.safeParse(req.body ?? {});
  if (!parsed.success) return badRequest("A value is required for property 'appId' of resource 'ServicePrincipal'.");
  const { appId } = parsed.data;
  if (state.graph.servicePrincipals.some((s) => String(s.appId).toLowerCase() === appId.toLowerCase()))
    return graphError(
      409,
      "Request_MultipleObjectsWithSameKeyValue",
      `The service principal cannot be created, updated, or restored because the service principal name ${appId} is already in use.`,
    );
  const now = new Date(state.now()).toISOString();
  const firstParty = FIRST_PARTY.find((f) => f.appId === appId.toLowerCase());
  if (firstParty) {
    const sp = firstPartyServicePrincipal(state, firstParty, now);
    state.graph.servicePrincipals.push(sp);
    return entity(req, "servicePrincipals", sp, 201);
  }
  const app = state.graph.applications.find((a) => String(a.appId).toLowerCase() === appId.toLowerCase());
  // A new application needs time to replicate inside Entra before a service principal can reference it.
  const created = app ? Date.parse(String(app.createdDateTime)) : Number.NaN;
  if (!app || (!Number.isNaN(created) && state.now() - created < state.latency.replicationMs)) return noBackingApplication(appId);
  const api = (app.api ?? {}) as { oauth2PermissionScopes?: unknown[] };
  const sp = servicePrincipalObject({
    id: randomUUID(),
    appId: String(app.appId),
    displayName: String(app.displayName),
    ownerTenant: state.scenario.tenant.id,
    servicePrincipalNames: [String(app.appId), ...((app.identifierUris as string[] | undefined) ?? [])],
    appRoles: (app.appRoles as unknown[] | undefined) ?? [],
    oauth2PermissionScopes: api.oauth2PermissionScopes ?? [],
    signInAudience: String(app.signInAudience ?? "AzureADMyOrg"),
    createdDateTime: now,
    tags: parsed.data.tags,
  });
  if (parsed.data.appRoleAssignmentRequired !== undefined) sp.appRoleAssignmentRequired = parsed.data.appRoleAssignmentRequired;
  if (parsed.data.notes !== undefined) sp.notes = parsed.data.notes;
  if (parsed.data.description !== undefined) sp.description = parsed.data.description;
  state.graph.servicePrincipals.push(sp);
  return entity(req, "servicePrincipals", sp, 201);
}
