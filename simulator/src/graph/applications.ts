// Applications: create, get (id, appId, uniqueName), list/$filter, update, upsert by uniqueName, delete, add/removePassword.
import { randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import type { Caller, SimRequest, SimResponse } from "../contract";
import type { GraphObject, SimState } from "../state";
import {
  APP_READ,
  APP_WRITE,
  applyFilter,
  badRequest,
  collection,
  entity,
  GRAPH_METADATA,
  graphError,
  hasPermission,
  headerOf,
  insufficientPrivileges,
  invalidObjectId,
  resourceNotFound,
} from "./http";

const resourceAccessSchema = z.object({
  resourceAppId: z.string(),
  resourceAccess: z.array(z.object({ id: z.string().uuid(), type: z.enum(["Role", "Scope"]) })),
});
const applicationSchema = z.looseObject({
  displayName: z.string().min(1).optional(),
  uniqueName: z.string().optional(),
  description: z.string().nullish(),
  notes: z.string().nullish(),
  signInAudience: z
    .enum(["AzureADMyOrg", "AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount"])
    .optional(),
  requiredResourceAccess: z.array(resourceAccessSchema).optional(),
  tags: z.array(z.string()).optional(),
  identifierUris: z.array(z.string()).optional(),
  appRoles: z.array(z.looseObject({ id: z.string() })).optional(),
  api: z.looseObject({}).optional(),
  web: z.looseObject({}).optional(),
  spa: z.looseObject({}).optional(),
  publicClient: z.looseObject({}).optional(),
  info: z.looseObject({}).optional(),
  serviceManagementReference: z.string().nullish(),
});
const addPasswordSchema = z.object({
  passwordCredential: z
    .object({
      displayName: z.string().nullish(),
      endDateTime: z.string().nullish(),
      startDateTime: z.string().nullish(),
    })
    .optional(),
});
const removePasswordSchema = z.object({ keyId: z.string().uuid() });

/** Properties Graph manages itself and refuses to take from a request body. */
const READ_ONLY = new Set([
  "id",
  "appId",
  "createdDateTime",
  "publisherDomain",
  "passwordCredentials",
  "keyCredentials",
  "deletedDateTime",
]);

type AppBody = z.infer<typeof applicationSchema>;

function validationError(parsed: { error: z.ZodError }): SimResponse {
  const issue = parsed.error.issues[0];
  return badRequest(`Invalid value specified for property '${issue?.path.join(".") ?? ""}' of resource 'Application'.`);
}

/** A new application object as Graph v1.0 returns it from POST /applications. */
export function newApplication(state: SimState, body: AppBody, displayName: string): GraphObject {
  const app: GraphObject = {
    id: randomUUID(),
    deletedDateTime: null,
    appId: randomUUID(),
    applicationTemplateId: null,
    disabledByMicrosoftStatus: null,
    createdDateTime: new Date(state.now()).toISOString(),
    displayName,
    description: null,
    groupMembershipClaims: null,
    identifierUris: [],
    isDeviceOnlyAuthSupported: null,
    isFallbackPublicClient: null,
    nativeAuthenticationApisEnabled: null,
    notes: null,
    publisherDomain: state.scenario.tenant.domain,
    serviceManagementReference: null,
    signInAudience: "AzureADMyOrg",
    tags: [],
    tokenEncryptionKeyId: null,
    uniqueName: null,
    samlMetadataUrl: null,
    defaultRedirectUri: null,
    certification: null,
    optionalClaims: null,
    requestSignatureVerification: null,
    addIns: [],
    api: {
      acceptMappedClaims: null,
      knownClientApplications: [],
      requestedAccessTokenVersion: null,
      oauth2PermissionScopes: [],
      preAuthorizedApplications: [],
    },
    appRoles: [],
    info: { logoUrl: null, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null },
    keyCredentials: [],
    parentalControlSettings: { countriesBlockedForMinors: [], legalAgeGroupRule: "Allow" },
    passwordCredentials: [],
    publicClient: { redirectUris: [] },
    requiredResourceAccess: [],
    verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
    web: {
      homePageUrl: null,
      logoutUrl: null,
      redirectUris: [],
      implicitGrantSettings: { enableAccessTokenIssuance: false, enableIdTokenIssuance: false },
      redirectUriSettings: [],
    },
    spa: { redirectUris: [] },
  };
  applyPatch(app, body);
  return app;
}

function applyPatch(app: GraphObject, body: AppBody): void {
  for (const [k, v] of Object.entries(body)) {
    if (READ_ONLY.has(k) || v === undefined) continue;
    const current = app[k];
    app[k] =
      v && typeof v === "object" && !Array.isArray(v) && current && typeof current === "object" && !Array.isArray(current)
        ? { ...current, ...v }
        : v;
  }
}

/** Resolves `applications/{id}`, `applications(appId='…')`, `applications(uniqueName='…')`. */
export function findApplication(state: SimState, key: { name?: string; value: string }): GraphObject | undefined {
  const v = key.value.toLowerCase();
  const prop = key.name?.toLowerCase() === "appid" ? "appId" : key.name?.toLowerCase() === "uniquename" ? "uniqueName" : "id";
  return state.graph.applications.find((a) => typeof a[prop] === "string" && (a[prop] as string).toLowerCase() === v);
}

/** Deletes an application with its service principals, their app role assignments and its secrets. */
function deleteApplication(state: SimState, app: GraphObject): void {
  state.graph.applications.splice(state.graph.applications.indexOf(app), 1);
  const sps = state.graph.servicePrincipals.filter((s) => s.appId === app.appId);
  for (const sp of sps) {
    state.graph.servicePrincipals.splice(state.graph.servicePrincipals.indexOf(sp), 1);
    for (let i = state.graph.appRoleAssignments.length - 1; i >= 0; i--) {
      const a = state.graph.appRoleAssignments[i];
      if (a && (a.principalId === sp.id || a.resourceId === sp.id)) state.graph.appRoleAssignments.splice(i, 1);
    }
  }
  for (let i = state.secrets.length - 1; i >= 0; i--) if (state.secrets[i]?.appId === app.appId) state.secrets.splice(i, 1);
}

/** Graph client secrets look like "abc8Q~…": 40 characters with a fixed marker after the 3-character hint. */
function newSecretText(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.~";
  const bytes = randomBytes(37);
  const chars = [...bytes].map((b) => alphabet[b % alphabet.length] ?? "a");
  return `${chars.slice(0, 3).join("")}8Q~${chars.slice(3).join("")}`.slice(0, 40);
}

// Entra: Application.ReadWrite.All (delegated) still needs the signed-in user to own the app or hold an application
// admin role before it may add or remove credentials. A user who creates an app becomes its owner (as in Entra);
// owners are kept beside the object, since Graph serves them only under /owners.
const CREDENTIAL_ADMIN_ROLES = ["global administrator", "application administrator", "cloud application administrator"];
const appOwners = new WeakMap<GraphObject, Set<string>>();

function recordCreator(app: GraphObject, caller: Caller): void {
  if (caller.kind === "user") appOwners.set(app, new Set([caller.objectId.toLowerCase()]));
}

function mayManageCredentials(state: SimState, caller: Caller, app: GraphObject): boolean {
  if (caller.kind === "app") return true;
  if (appOwners.get(app)?.has(caller.objectId.toLowerCase())) return true;
  const roles = state.scenario.users.find((u) => u.objectId.toLowerCase() === caller.objectId.toLowerCase())?.directoryRoles ?? [];
  return roles.some((r) => CREDENTIAL_ADMIN_ROLES.includes(r.toLowerCase()));
}

/** /v1.0/applications… */
export function handleApplications(
  req: SimRequest,
  state: SimState,
  caller: Caller,
  key: { name?: string; value: string } | undefined,
  rest: string[],
): SimResponse {
  const write = req.method !== "GET";
  if (!hasPermission(caller, write ? APP_WRITE : APP_READ)) return insufficientPrivileges();

  if (!key) {
    if (rest.length > 0) return resourceNotFound(rest[0] ?? "");
    if (req.method === "GET") {
      const filtered = applyFilter(req, state.graph.applications);
      return Array.isArray(filtered) ? collection(req, "applications", filtered) : filtered;
    }
    if (req.method !== "POST") return graphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.");
    const parsed = applicationSchema.safeParse(req.body ?? {});
    if (!parsed.success) return validationError(parsed);
    if (!parsed.data.displayName) return badRequest("A value is required for property 'displayName' of resource 'Application'.");
    if (parsed.data.uniqueName && findApplication(state, { name: "uniqueName", value: parsed.data.uniqueName }))
      return graphError(400, "Request_BadRequest", "Another object with the same value for property uniqueName already exists.");
    const app = newApplication(state, parsed.data, parsed.data.displayName);
    recordCreator(app, caller);
    state.graph.applications.push(app);
    return entity(req, "applications", app, 201);
  }

  if (key.name === undefined || key.name.toLowerCase() === "appid") {
    const invalid = invalidObjectId(key);
    if (invalid) return invalid;
  }
  const app = findApplication(state, key);
  const action = rest[0]?.toLowerCase();
  if (action === "addpassword" || action === "removepassword") {
    if (req.method !== "POST" || rest.length > 1)
      return graphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.");
    if (!app) return resourceNotFound(key.value);
    if (!mayManageCredentials(state, caller, app)) return insufficientPrivileges();
    return action === "addpassword" ? addPassword(req, state, app) : removePassword(req, state, app);
  }
  if (action === "owners" && rest.length === 1) {
    // GET /applications/{id}/owners (learn.microsoft.com/graph/api/application-list-owners): directoryObjects,
    // least privilege Application.Read.All; this simulator's owners are users.
    if (req.method !== "GET") return graphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.");
    if (!app) return resourceNotFound(key.value);
    const owners = [...(appOwners.get(app) ?? [])].map((id) => ({ "@odata.type": "#microsoft.graph.user", id }));
    return collection(req, "directoryObjects", owners);
  }
  if (rest.length > 0) return resourceNotFound(rest[0] ?? "");

  switch (req.method) {
    case "GET":
      return app ? entity(req, "applications", app) : resourceNotFound(key.value);
    case "DELETE":
      if (!app) return resourceNotFound(key.value);
      deleteApplication(state, app);
      return { status: 204 };
    case "PATCH": {
      const parsed = applicationSchema.safeParse(req.body ?? {});
      if (!parsed.success) return validationError(parsed);
      if (app) {
        applyPatch(app, parsed.data);
        return { status: 204 };
      }
      // Upsert (PATCH /applications(uniqueName='…') + Prefer: create-if-missing): 201 with the new object.
      const prefer = headerOf(req, "prefer") ?? "";
      if (key.name?.toLowerCase() !== "uniquename" || !/create-if-missing/i.test(prefer)) return resourceNotFound(key.value);
      if (!parsed.data.displayName) return badRequest("A value is required for property 'displayName' of resource 'Application'.");
      const created = newApplication(state, { ...parsed.data, uniqueName: key.value }, parsed.data.displayName);
      recordCreator(created, caller);
      created.uniqueName = key.value;
      state.graph.applications.push(created);
      return entity(req, "applications", created, 201);
    }
    default:
      return graphError(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.");
  }
}

function addPassword(req: SimRequest, state: SimState, app: GraphObject): SimResponse {
  const parsed = addPasswordSchema.safeParse(req.body ?? {});
  if (!parsed.success) return badRequest("Invalid value specified for property 'passwordCredential'.");
  const input = parsed.data.passwordCredential ?? {};
  const now = state.now();
  const start = input.startDateTime ? Date.parse(input.startDateTime) : now;
  // Graph's default lifetime for a new secret is two years.
  const end = input.endDateTime ? Date.parse(input.endDateTime) : start + 2 * 365 * 24 * 3600 * 1000;
  if (Number.isNaN(start) || Number.isNaN(end)) return badRequest("Invalid value specified for property 'passwordCredential'.");
  if (end <= start) return badRequest("Credential end date must be after the start date.");
  const secretText = newSecretText();
  const credential = {
    customKeyIdentifier: null,
    displayName: input.displayName ?? null,
    endDateTime: new Date(end).toISOString(),
    hint: secretText.slice(0, 3),
    keyId: randomUUID(),
    secretText: null,
    startDateTime: new Date(start).toISOString(),
  };
  (app.passwordCredentials as unknown[]).push(credential);
  state.secrets.push({
    appId: String(app.appId),
    keyId: credential.keyId,
    secretText,
    endDateTime: credential.endDateTime,
    createdAt: now,
  });
  return { status: 200, body: { "@odata.context": `${GRAPH_METADATA}#microsoft.graph.passwordCredential`, ...credential, secretText } };
}

function removePassword(req: SimRequest, state: SimState, app: GraphObject): SimResponse {
  const parsed = removePasswordSchema.safeParse(req.body ?? {});
  if (!parsed.success) return badRequest("Invalid value specified for property 'keyId'.");
  const creds = app.passwordCredentials as { keyId: string }[];
  const idx = creds.findIndex((c) => c.keyId.toLowerCase() === parsed.data.keyId.toLowerCase());
  if (idx < 0) return resourceNotFound(parsed.data.keyId);
  creds.splice(idx, 1);
  for (let i = state.secrets.length - 1; i >= 0; i--) {
    const s = state.secrets[i];
    if (s && s.appId === app.appId && s.keyId.toLowerCase() === parsed.data.keyId.toLowerCase()) state.secrets.splice(i, 1);
  }
  return { status: 204 };
}
