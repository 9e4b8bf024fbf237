// Step: the vendor's Entra app, its service principal, admin consent for Log Analytics Data.Read, and this run's client secret.
import "server-only";
import { addApplicationPassword } from "@/lib/azure/add-application-password";
import { removeApplicationPassword } from "@/lib/azure/remove-application-password";
import { ensureServicePrincipal } from "@/lib/azure/ensure-service-principal";
import { AzureOperationError } from "@/lib/azure/errors";
import { findAppRole } from "@/lib/azure/find-app-role";
import { getApplicationDetails, type ApplicationDetails, type PasswordCredentialInfo } from "@/lib/azure/get-application-details";
import { getServicePrincipalByAppId, type ServicePrincipalInfo } from "@/lib/azure/get-service-principal-by-app-id";
import { grantAppRole } from "@/lib/azure/grant-app-role";
import { LOG_ANALYTICS_DATA_READ, WELL_KNOWN_APP_IDS } from "@/lib/azure/graph-ids";
import { listAppRoleAssignments } from "@/lib/azure/list-app-role-assignments";
import { upsertApplication, type ApplicationInput } from "@/lib/azure/upsert-application";
import { deleteApplication } from "@/lib/azure/delete-application";
import { deleteServicePrincipal } from "@/lib/azure/delete-service-principal";
import { revokeAppRoleAssignment } from "@/lib/azure/revoke-app-role-assignment";
import { splitKey } from "./keys";
import { absentOn404, outputString, same as sameId, standardRemoval } from "./removal";
import { retryWriteOnReplication } from "./replication-retry";
import type {
  DescribedResource,
  DescribeInput,
  LoggedWrite,
  PlannedChange,
  RemovalContext,
  Resolution,
  StepContext,
  StepModule,
  VerifyResult,
} from "./types";

/** Where the engine keeps this run's client secret until the hand-off. */
export const CLIENT_SECRET_KIND = "client_secret";

/** What Azure has now, as far as this step cares. Never holds a secret value. */
export interface AppRegistrationLive {
  app: ApplicationDetails | null;
  servicePrincipal: ServicePrincipalInfo | null;
  logAnalytics: ServicePrincipalInfo | null;
  /** Data.Read application role id of this tenant's Log Analytics API service principal (null while it has none). */
  dataReadRoleId: string | null;
  consentGranted: boolean;
  /** This run's unexpired client secret on the app (metadata only). */
  runCredential: PasswordCredentialInfo | null;
  /** Whether the engine still stores that secret's value for the hand-off. */
  secretStored: boolean;
}

/** Secret metadata, safe to persist and show. */
export interface ClientSecretInfo {
  keyId: string;
  hint: string;
  /** ISO 8601. */
  expiresAt: string;
}

/** What later steps (role assignments, hand-off) need. */
export interface AppRegistrationOutput {
  applicationObjectId: string;
  appId: string;
  servicePrincipalId: string;
  consentGranted: boolean;
  secret: ClientSecretInfo | null;
  /** The Log Analytics API's service principal and its Data.Read role id, as granted (absent in outputs of older runs). */
  logAnalyticsServicePrincipalId?: string;
  dataReadRoleId?: string;
}

/** The passwordCredential displayName that marks a run's secret, so re-running that run finds it instead of adding one. */
export function runCredentialName(runId: string): string {
  return `aks-onboarding ${runId}`;
}

const LA_APP_ID = WELL_KNOWN_APP_IDS.logAnalyticsApi;
// Graph objects read as missing for a while after creation; a miss within this window is replication, not deletion.
const REPLICATION_WINDOW_MS = 10 * 60_000;

const KEY_KINDS = {
  "app-registration.log-analytics-service-principal": "log-analytics-service-principal",
  "app-registration.app": "app",
  "app-registration.service-principal": "service-principal",
  "app-registration.consent": "consent",
  "app-registration.secret": "secret",
  "app-registration.secret-orphan": "secret-orphan",
} as const;

/** One of the app-registration step's log keys, parsed: its kind and the value after the colon. */
export interface AppRegistrationKey {
  kind: (typeof KEY_KINDS)[keyof typeof KEY_KINDS];
  value: string;
}

/** The app-registration step's operation-log keys and their parser (the strings are persisted: they never change). */
export const appRegistrationKeys = {
  logAnalytics: `app-registration.log-analytics-service-principal:${LA_APP_ID}`,
  app: (uniqueName: string) => `app-registration.app:${uniqueName}`,
  servicePrincipal: (uniqueName: string) => `app-registration.service-principal:${uniqueName}`,
  consent: (uniqueName: string) => `app-registration.consent:${uniqueName}/${LOG_ANALYTICS_DATA_READ}`,
  secret: (runId: string) => `app-registration.secret:${runCredentialName(runId)}`,
  orphanSecret: (runId: string, keyId: string) => `app-registration.secret-orphan:${runCredentialName(runId)}:${keyId}`,
  parse(key: string): AppRegistrationKey | null {
    const k = splitKey(key);
    const kind = k && Object.hasOwn(KEY_KINDS, k.head) ? KEY_KINDS[k.head as keyof typeof KEY_KINDS] : undefined;
    return k && kind ? { kind, value: k.value } : null;
  },
};
const keys = appRegistrationKeys;

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function findRunCredential(app: ApplicationDetails | null, runId: string, now = Date.now()): PasswordCredentialInfo | null {
  const name = runCredentialName(runId);
  const candidates = (app?.passwordCredentials ?? []).filter(
    (c) => c.displayName === name && c.endDateTime !== null && Date.parse(c.endDateTime) > now,
  );
  candidates.sort((a, b) => Date.parse(b.endDateTime ?? "") - Date.parse(a.endDateTime ?? ""));
  return candidates[0] ?? null;
}

function declaresDataRead(app: ApplicationDetails, dataReadRoleId: string | null): boolean {
  const la = app.requiredResourceAccess.find((r) => same(r.resourceAppId, LA_APP_ID));
  if (!la) return false;
  // Without the Log Analytics service principal the role id is unknown; any declared app role on it is accepted until then.
  return la.resourceAccess.some((a) => a.type === "Role" && (dataReadRoleId === null || same(a.id, dataReadRoleId)));
}

/** requiredResourceAccess to send: the app roles already declared for other APIs, plus Log Analytics Data.Read. */
function requiredAppRoles(app: ApplicationDetails | null, dataReadRoleId: string): ApplicationInput["requiredAppRoles"] {
  const others = (app?.requiredResourceAccess ?? [])
    .filter((r) => !same(r.resourceAppId, LA_APP_ID))
    .map((r) => ({ resourceAppId: r.resourceAppId, appRoleIds: r.resourceAccess.filter((a) => a.type === "Role").map((a) => a.id) }))
    .filter((r) => r.appRoleIds.length > 0);
  const laExisting = app?.requiredResourceAccess.find((r) => same(r.resourceAppId, LA_APP_ID));
  const laRoles = new Set((laExisting?.resourceAccess ?? []).filter((a) => a.type === "Role").map((a) => a.id.toLowerCase()));
  laRoles.add(dataReadRoleId.toLowerCase());
  return [...others, { resourceAppId: LA_APP_ID, appRoleIds: [...laRoles] }];
}

function appNeedsUpdate(ctx: StepContext, live: AppRegistrationLive): string[] {
  const app = live.app;
  if (!app) return [];
  const details: string[] = [];
  if (app.displayName !== ctx.config.vendor.appDisplayName)
    details.push(`displayName: "${app.displayName}" → "${ctx.config.vendor.appDisplayName}"`);
  if (!declaresDataRead(app, live.dataReadRoleId))
    details.push(`requiredResourceAccess: +Log Analytics API ${LOG_ANALYTICS_DATA_READ} (application)`);
  return details;
}

function dataReadRoleOrThrow(logAnalytics: ServicePrincipalInfo): string {
  const role = findAppRole(logAnalytics.appRoles, LOG_ANALYTICS_DATA_READ);
  if (!role) {
    throw new AzureOperationError(
      "not_found",
      `The Log Analytics API in this tenant offers no ${LOG_ANALYTICS_DATA_READ} application permission, so the portal could not grant it. Contact support.`,
    );
  }
  return role.id;
}

function isRecent(app: ApplicationDetails | null): boolean {
  if (!app) return true;
  const created = app.createdDateTime ? Date.parse(app.createdDateTime) : Number.NaN;
  return !Number.isNaN(created) && Date.now() - created < REPLICATION_WINDOW_MS;
}

/** A not_found right after the app was created is Entra replication: re-classify it so the engine retries. */
async function replicationAware<T>(recent: boolean, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (recent && error instanceof AzureOperationError && error.code === "not_found") {
      throw new AzureOperationError(
        "application_not_replicated",
        "Entra ID has not finished replicating the new app registration. Retry in a few seconds.",
        error.azureCode,
        error.status,
        error.requestId,
      );
    }
    throw error;
  }
}

async function read(ctx: StepContext): Promise<AppRegistrationLive> {
  const uniqueName = ctx.config.vendor.appUniqueName;
  const [app, logAnalytics] = await Promise.all([
    getApplicationDetails(ctx.graph, uniqueName),
    getServicePrincipalByAppId(ctx.graph, LA_APP_ID),
  ]);
  const dataReadRoleId = logAnalytics ? dataReadRoleOrThrow(logAnalytics) : null;
  const servicePrincipal = app ? await getServicePrincipalByAppId(ctx.graph, app.appId) : null;
  let consentGranted = false;
  if (servicePrincipal && logAnalytics && dataReadRoleId) {
    const held = await listAppRoleAssignments(ctx.graph, servicePrincipal.id, "principal");
    consentGranted = held.some((a) => same(a.resourceId, logAnalytics.id) && same(a.appRoleId, dataReadRoleId));
  }
  const runCredential = findRunCredential(app, ctx.runId);
  const stored = runCredential ? await ctx.secrets.get(CLIENT_SECRET_KIND) : null;
  return {
    app,
    servicePrincipal,
    logAnalytics,
    dataReadRoleId,
    consentGranted,
    runCredential,
    secretStored: !!stored && !!runCredential && same(stored.keyId, runCredential.keyId),
  };
}

function plan(ctx: StepContext, live: AppRegistrationLive): PlannedChange[] {
  const { appUniqueName: uniqueName, appDisplayName } = ctx.config.vendor;
  const lifetime = ctx.config.options.secretLifetimeDays;
  const base = { stepId: "app-registration" as const };
  const appUpdate = appNeedsUpdate(ctx, live);
  const changes: PlannedChange[] = [
    {
      ...base,
      key: keys.logAnalytics,
      action: live.logAnalytics ? "no-change" : "create",
      resourceType: "Service principal",
      resource: "Log Analytics API",
      why: live.logAnalytics
        ? "The tenant already has the Log Analytics API, which offers the Data.Read permission."
        : "The tenant has no Log Analytics API service principal yet; it offers the Data.Read permission.",
    },
    {
      ...base,
      key: keys.app(uniqueName),
      action: !live.app ? "create" : appUpdate.length > 0 ? "update" : "no-change",
      resourceType: "App registration",
      resource: `${appDisplayName} (${uniqueName})`,
      why: "The identity the vendor signs in with to read the audit logs.",
      ...(!live.app
        ? {
            details: [
              `displayName: ${appDisplayName}`,
              "signInAudience: AzureADMyOrg",
              `requiredResourceAccess: Log Analytics API ${LOG_ANALYTICS_DATA_READ} (application)`,
            ],
          }
        : appUpdate.length > 0
          ? { details: appUpdate }
          : {}),
    },
    {
      ...base,
      key: keys.servicePrincipal(uniqueName),
      action: live.servicePrincipal ? "no-change" : "create",
      resourceType: "Service principal",
      resource: appDisplayName,
      why: "The app's identity in this tenant: what roles and permissions are granted to.",
    },
    {
      ...base,
      key: keys.consent(uniqueName),
      action: live.consentGranted ? "no-change" : "grant",
      resourceType: "Admin consent",
      resource: `Log Analytics API ${LOG_ANALYTICS_DATA_READ}`,
      why: live.consentGranted
        ? "The app already holds Data.Read."
        : "Lets the app query Log Analytics data; granting needs Cloud Application Administrator or Application Administrator.",
    },
  ];
  const credential = live.runCredential;
  changes.push({
    ...base,
    key: keys.secret(ctx.runId),
    action: credential ? "no-change" : "create",
    resourceType: "Client secret",
    resource: runCredentialName(ctx.runId),
    why: credential
      ? live.secretStored
        ? "This run's secret exists and is held encrypted for the hand-off."
        : "This run's secret exists; it was already handed off (or is no longer stored), so no new one is created."
      : "The vendor signs in with it; it is stored encrypted until the hand-off and never shown.",
    details: credential
      ? [`keyId: ${credential.keyId}`, `expires: ${credential.endDateTime ?? "unknown"}`]
      : [`lifetime: ${lifetime} days`],
  });
  return changes;
}

async function apply(ctx: StepContext, live: AppRegistrationLive): Promise<AppRegistrationOutput> {
  const { appUniqueName: uniqueName, appDisplayName } = ctx.config.vendor;
  const total = 5;
  const step = (done: number, label: string) =>
    ctx.progress({ done, total, label: `App registration ${Math.min(done + 1, total)} of ${total}: ${label}` });

  await step(0, "Log Analytics API");
  const logAnalytics =
    live.logAnalytics ??
    (await ctx.write(
      { key: keys.logAnalytics, kind: "create", target: "Log Analytics API service principal" },
      // This execution's read found none: POST without a second GET ("already exists" still ends in a GET).
      async () => (await ensureServicePrincipal(ctx.graph, LA_APP_ID, { knownAbsent: true })).servicePrincipal,
      (sp) => sp.id,
    ));
  const dataReadRoleId = dataReadRoleOrThrow(logAnalytics);

  await step(1, "app registration");
  const recent = isRecent(live.app);
  let app: { id: string; appId: string } | null = live.app;
  if (!live.app || appNeedsUpdate(ctx, { ...live, dataReadRoleId }).length > 0) {
    const input: ApplicationInput = {
      uniqueName,
      displayName: appDisplayName,
      requiredAppRoles: requiredAppRoles(live.app, dataReadRoleId),
    };
    app = await ctx.write(
      { key: keys.app(uniqueName), kind: live.app ? "update" : "create", target: `App registration ${uniqueName}` },
      () => replicationAware(recent, () => upsertApplication(ctx.graph, input)),
      (a) => a.id,
    );
  }
  if (!app) throw new Error("unreachable: the app registration was neither read nor created");
  const appRef = app;

  await step(2, "service principal");
  let servicePrincipal = live.servicePrincipal && same(live.servicePrincipal.appId, appRef.appId) ? live.servicePrincipal : null;
  // The read looked up this app's SP (none) or the app is new: either way this execution knows there is none.
  const spKnownAbsent = live.servicePrincipal === null && (live.app === null || same(live.app.appId, appRef.appId));
  servicePrincipal ??= await createServicePrincipal(ctx, uniqueName, appRef.appId, recent, spKnownAbsent);
  const spId = servicePrincipal.id;

  await step(3, "admin consent and client secret");
  // The grant needs the SP, the secret only the app: both go side by side, and both settle before a failure is thrown.
  const grant = async () => {
    if (live.consentGranted) return;
    // A just-created SP may not be visible to the grant yet: retry the grant alone.
    await retryWriteOnReplication(ctx, () =>
      ctx.write(
        { key: keys.consent(uniqueName), kind: "grant", target: `Log Analytics API ${LOG_ANALYTICS_DATA_READ} for ${uniqueName}` },
        // grantAppRole treats Graph's "already exists" as done after checking the grant is exactly this one.
        () =>
          replicationAware(recent, () =>
            grantAppRole(ctx.graph, { resourceServicePrincipalId: logAnalytics.id, principalId: spId, appRoleId: dataReadRoleId }),
          ),
        (g) => g.id,
      ),
    );
  };
  // Every apply follows its own fresh read (the engine's cycle), and nothing above adds a password: the read's
  // credentials are current. A new app has none.
  const [granted, sealed] = await Promise.allSettled([
    grant(),
    ensureRunSecret(ctx, appRef, recent, live.app && same(live.app.id, appRef.id) ? live.app : null),
  ]);
  if (granted.status === "rejected") throw granted.reason;
  if (sealed.status === "rejected") throw sealed.reason;
  const secret = sealed.value;
  await step(5, "done");
  return {
    applicationObjectId: appRef.id,
    appId: appRef.appId,
    servicePrincipalId: spId,
    consentGranted: true,
    secret,
    logAnalyticsServicePrincipalId: logAnalytics.id,
    dataReadRoleId,
  };
}

/**
 * POST the app's service principal; right after the app's creation Graph answers NoBackingApplicationObject. With the
 * engine's in-step wait only the POST is retried (each try a logged write); without it the error goes to the caller.
 */
async function createServicePrincipal(
  ctx: StepContext,
  uniqueName: string,
  appId: string,
  recent: boolean,
  knownAbsent: boolean,
): Promise<ServicePrincipalInfo> {
  return retryWriteOnReplication(ctx, (tryNumber) =>
    ctx.write(
      { key: keys.servicePrincipal(uniqueName), kind: "create", target: `Service principal of ${uniqueName}` },
      // After a failed POST there is still no SP: only a POST that met "already exists" needs the GET.
      () =>
        replicationAware(
          recent,
          async () => (await ensureServicePrincipal(ctx.graph, appId, { knownAbsent: knownAbsent || tryNumber > 1 })).servicePrincipal,
        ),
      (sp) => sp.id,
    ),
  );
}

/** This run's secret: the existing one (even when its value was already handed off), or a new one stored only in ctx.secrets. */
async function ensureRunSecret(
  ctx: StepContext,
  app: { id: string },
  recent: boolean,
  read: ApplicationDetails | null,
): Promise<ClientSecretInfo> {
  const existing = findRunCredential(read, ctx.runId);
  if (existing) {
    const stored = await ctx.secrets.get(CLIENT_SECRET_KIND);
    if (stored && same(stored.keyId, existing.keyId))
      return { keyId: stored.keyId, hint: stored.hint, expiresAt: stored.expiresAt.toISOString() };
    // The value is sealed before the write's outcome is logged, so a logged success means it was stored (and since handed
    // off or revealed). Without one, a crash hit between Graph's answer and the sealing: nobody can ever know that
    // value, so the orphan goes and a new secret takes its place.
    if (await ctx.wroteBefore(keys.secret(ctx.runId)))
      return { keyId: existing.keyId, hint: existing.hint ?? "", expiresAt: existing.endDateTime ?? "" };
    await ctx.write(
      {
        key: keys.orphanSecret(ctx.runId, existing.keyId),
        kind: "delete",
        target: `Unrecoverable client secret ${runCredentialName(ctx.runId)}`,
      },
      () => removeApplicationPassword(ctx.graph, app.id, existing.keyId),
    );
  }
  return ctx.write(
    { key: keys.secret(ctx.runId), kind: "create", target: `Client secret ${runCredentialName(ctx.runId)}` },
    () =>
      replicationAware(recent, async () => {
        const password = await addApplicationPassword(ctx.graph, app.id, {
          displayName: runCredentialName(ctx.runId),
          lifetimeDays: ctx.config.options.secretLifetimeDays,
        });
        const meta = { keyId: password.keyId, hint: password.hint, expiresAt: new Date(password.endDateTime) };
        // The value goes straight into encrypted storage; only metadata leaves this function.
        await ctx.secrets.put(CLIENT_SECRET_KIND, password.secretText, meta);
        return { keyId: meta.keyId, hint: meta.hint, expiresAt: meta.expiresAt.toISOString() };
      }),
    (m) => m.keyId,
  );
}

async function verify(ctx: StepContext, out: AppRegistrationOutput): Promise<VerifyResult> {
  const uniqueName = ctx.config.vendor.appUniqueName;
  const app = await getApplicationDetails(ctx.graph, uniqueName);
  if (!app || !same(app.id, out.applicationObjectId)) return { ok: false, reason: `The app registration ${uniqueName} was not found.` };
  const checks = [`App registration ${uniqueName} exists`];
  const sp = await getServicePrincipalByAppId(ctx.graph, out.appId);
  if (!sp || !same(sp.id, out.servicePrincipalId)) return { ok: false, reason: "The app's service principal was not found." };
  checks.push("Service principal exists");
  // The grant names the Log Analytics SP and role it was made for; older outputs lack them, so look them up.
  let laId = out.logAnalyticsServicePrincipalId;
  let roleId = out.dataReadRoleId;
  if (laId === undefined || roleId === undefined) {
    const la = await getServicePrincipalByAppId(ctx.graph, LA_APP_ID);
    if (!la) return { ok: false, reason: "The Log Analytics API service principal was not found." };
    laId = la.id;
    roleId = dataReadRoleOrThrow(la);
  }
  const held = await listAppRoleAssignments(ctx.graph, sp.id, "principal");
  if (!held.some((a) => same(a.resourceId, laId) && same(a.appRoleId, roleId))) {
    return { ok: false, reason: `The app does not hold Log Analytics API ${LOG_ANALYTICS_DATA_READ} (admin consent is missing).` };
  }
  checks.push(`Admin consent for Log Analytics API ${LOG_ANALYTICS_DATA_READ} granted`);
  const credential = out.secret
    ? app.passwordCredentials.find((c) => same(c.keyId, out.secret?.keyId ?? ""))
    : findRunCredential(app, ctx.runId);
  if (!credential || credential.displayName !== runCredentialName(ctx.runId))
    return { ok: false, reason: "This run's client secret is missing from the app." };
  if (!credential.endDateTime || Date.parse(credential.endDateTime) <= Date.now())
    return { ok: false, reason: "This run's client secret has expired." };
  checks.push(`Client secret ${runCredentialName(ctx.runId)} valid until ${credential.endDateTime}`);
  return { ok: true, checks };
}

/** What the app-registration step writes in the tenant's directory, for the change-approval exports. */
export interface AppRegistrationDescription {
  app: DescribedResource<{ displayName: string }>;
  servicePrincipal: DescribedResource<{ appUniqueName: string }>;
  /** Microsoft's Log Analytics API service principal, created in the tenant when missing. */
  logAnalyticsServicePrincipal: DescribedResource<{ appId: string }>;
  /** Admin consent for the Log Analytics API app role. */
  consent: DescribedResource<{ role: string }>;
  secret: DescribedResource<{ lifetimeDays: number }>;
}

/** The vendor's app, its service principal, the Log Analytics grant and the run's client secret, as the step writes them. */
export function describeAppRegistration({ runId, config }: DescribeInput): AppRegistrationDescription {
  const { appUniqueName: uniqueName, appDisplayName: displayName } = config.vendor;
  const tenant = `/tenants/${config.tenantId}`;
  return {
    app: {
      key: keys.app(uniqueName),
      resourceType: "microsoft.graph.application",
      name: uniqueName,
      scope: tenant,
      properties: { displayName },
    },
    servicePrincipal: {
      key: keys.servicePrincipal(uniqueName),
      resourceType: "microsoft.graph.servicePrincipal",
      name: uniqueName,
      scope: tenant,
      properties: { appUniqueName: uniqueName },
    },
    logAnalyticsServicePrincipal: {
      key: keys.logAnalytics,
      resourceType: "microsoft.graph.servicePrincipal",
      name: "Log Analytics API",
      scope: tenant,
      properties: { appId: LA_APP_ID },
    },
    consent: {
      key: keys.consent(uniqueName),
      resourceType: "microsoft.graph.appRoleAssignment",
      name: LOG_ANALYTICS_DATA_READ,
      scope: uniqueName,
      properties: { role: LOG_ANALYTICS_DATA_READ },
    },
    secret: {
      key: keys.secret(runId),
      resourceType: "microsoft.graph.passwordCredential",
      name: runCredentialName(runId),
      scope: uniqueName,
      properties: { lifetimeDays: config.options.secretLifetimeDays },
    },
  };
}

/** The vendor's app id: from the app-registration step's outputs, else from the app registration itself. */
async function vendorAppId(ctx: RemovalContext): Promise<string | null> {
  return (
    outputString(ctx, "app-registration", "appId") ??
    (await getApplicationDetails(ctx.graph, ctx.config.vendor.appUniqueName))?.appId ??
    null
  );
}

/** The vendor's service principal object id: from the step's outputs, else read from Graph; null when it is gone. */
export async function vendorPrincipalId(ctx: RemovalContext): Promise<string | null> {
  const fromOutputs = outputString(ctx, "app-registration", "servicePrincipalId");
  if (fromOutputs) return fromOutputs;
  const appId = await vendorAppId(ctx);
  return appId ? ((await getServicePrincipalByAppId(ctx.graph, appId))?.id ?? null) : null;
}

const REMOVABLE: Partial<Record<AppRegistrationKey["kind"], string>> = {
  consent: "consent",
  secret: "client-secret",
  app: "application",
  "service-principal": "service-principal",
};

const REMOVAL_TYPES: Record<string, string> = {
  consent: "Admin consent (Log Analytics Data.Read)",
  "client-secret": "Client secret",
  application: "App registration",
  "service-principal": "Service principal",
};

const REMOVAL_WHY: Record<string, string> = {
  consent: "The Log Analytics permission this run granted to the vendor's app.",
  "client-secret": "The client secret this run added to the vendor's app.",
  application: "The vendor's app registration this run created, with its service principal, client secrets and Log Analytics permission.",
  "service-principal":
    "The vendor's service principal this run created (removed with the app registration; removed on its own if it remains).",
};

async function resolveAppWrite(w: LoggedWrite, category: string, ctx: RemovalContext): Promise<Resolution> {
  const v = keys.parse(w.key)?.value ?? "";
  switch (category) {
    case "consent": {
      const principal = await vendorPrincipalId(ctx);
      const la = await getServicePrincipalByAppId(ctx.graph, LA_APP_ID);
      if (!principal || !la) return { state: "absent" };
      const find = async () =>
        (await absentOn404(() => listAppRoleAssignments(ctx.graph, principal, "principal")))?.find((g) =>
          w.resourceId ? sameId(g.id, w.resourceId) : sameId(g.resourceId, la.id),
        ) ?? null;
      const grant = await find();
      if (!grant) return { state: "absent" };
      return {
        state: "present",
        live: { remove: () => revokeAppRoleAssignment(ctx.graph, la.id, grant.id), exists: async () => (await find()) !== null },
      };
    }
    case "client-secret": {
      const find = async () => {
        const app = await getApplicationDetails(ctx.graph, ctx.config.vendor.appUniqueName);
        const cred = app?.passwordCredentials.find((p) => (w.resourceId ? sameId(p.keyId, w.resourceId) : p.displayName === v));
        return app && cred ? { appObjectId: app.id, keyId: cred.keyId } : null;
      };
      const found = await find();
      if (!found) return { state: "absent" };
      return {
        state: "present",
        live: {
          remove: () => removeApplicationPassword(ctx.graph, found.appObjectId, found.keyId),
          exists: async () => (await find()) !== null,
        },
      };
    }
    case "application": {
      const app = await getApplicationDetails(ctx.graph, v);
      if (!app) return { state: "absent" };
      if (w.resourceId && !sameId(app.id, w.resourceId))
        return { state: "foreign", reason: "An app registration with this name exists, but it is not the one this run created." };
      return {
        state: "present",
        live: {
          remove: () => deleteApplication(ctx.graph, app.id),
          exists: async () => (await getApplicationDetails(ctx.graph, v)) !== null,
        },
      };
    }
    default: {
      const appId = await vendorAppId(ctx);
      if (!appId) return { state: "absent" };
      const sp = await getServicePrincipalByAppId(ctx.graph, appId);
      if (!sp) return { state: "absent" };
      return {
        state: "present",
        live: {
          remove: () => deleteServicePrincipal(ctx.graph, sp.id),
          exists: async () => (await getServicePrincipalByAppId(ctx.graph, appId)) !== null,
        },
      };
    }
  }
}

/** Removes the vendor's app registration the run created (its secret, grant and service principal go with it). */
export const appRegistrationRemoval = standardRemoval(
  {
    categories: ["consent", "client-secret", "application", "service-principal"],
    categoryOf: (key) => {
      const k = keys.parse(key);
      return (k && REMOVABLE[k.kind]) ?? null;
    },
    describe(w, category) {
      const v = keys.parse(w.key)?.value ?? "";
      return { resourceType: REMOVAL_TYPES[category] ?? category, resource: category === "consent" ? (v.split("/")[0] ?? v) : v };
    },
    keptType: (key) => (keys.parse(key)?.kind === "log-analytics-service-principal" ? "Log Analytics API service principal" : "Change"),
    keptReason: (key) =>
      keys.parse(key)?.kind === "log-analytics-service-principal"
        ? "Microsoft's Log Analytics API service principal is shared by every app in the tenant."
        : undefined,
    why: REMOVAL_WHY,
    resolve: resolveAppWrite,
  },
  (lines) => {
    // The app registration takes its secrets, grant and service principal with it.
    if (!lines.some((l) => l.category === "application" && l.action === "remove")) return;
    for (const l of lines) {
      if (l.action === "remove" && (l.category === "consent" || l.category === "client-secret" || l.category === "service-principal")) {
        l.removedWith = "application";
        l.why = `${REMOVAL_WHY[l.category]} Removed together with the app registration.`;
      }
    }
  },
);

/** The vendor's app registration with Log Analytics Data.Read and a run-scoped client secret. */
export const appRegistrationStep: StepModule<AppRegistrationLive, AppRegistrationOutput> = {
  id: "app-registration",
  removal: appRegistrationRemoval,
  read,
  plan,
  apply,
  verify,
};
