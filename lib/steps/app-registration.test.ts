import type { TokenCredential } from "@azure/core-auth";
import { describe, expect, it } from "vitest";
import type { ApplicationDetails } from "@/lib/azure/get-application-details";
import type { ServicePrincipalInfo } from "@/lib/azure/get-service-principal-by-app-id";
import { WELL_KNOWN_APP_IDS } from "@/lib/azure/graph-ids";
import { appRegistrationStep, runCredentialName, type AppRegistrationLive } from "./app-registration";
import type { RunConfig } from "./config";
import type { StepContext } from "./types";

const DATA_READ = "e8f6e161-84d0-4cd7-9441-2d46ec9ec3d5";
const config = {
  tenantId: "55555555-5555-4555-8555-555555555555",
  subscriptions: [{ id: "11111111-1111-4111-8111-111111111111", displayName: "A" }],
  clusters: [],
  storage: [],
  options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 90 },
  vendor: { name: "Vendor", appUniqueName: "vendor-app", appDisplayName: "Vendor app", egressIps: [] },
} satisfies RunConfig;
const ctx = {
  runId: "run-1",
  tenantId: config.tenantId,
  config,
  arm: {} as TokenCredential,
  graph: {} as TokenCredential,
  outputs: {},
} as unknown as StepContext;

const logAnalytics: ServicePrincipalInfo = {
  id: "la-sp",
  appId: WELL_KNOWN_APP_IDS.logAnalyticsApi,
  displayName: "Log Analytics API",
  appRoles: [
    { id: DATA_READ, value: "Data.Read", displayName: "Read Log Analytics data", allowedMemberTypes: ["Application"], isEnabled: true },
  ],
};

function app(overrides: Partial<ApplicationDetails> = {}): ApplicationDetails {
  return {
    id: "app-object",
    appId: "app-id",
    displayName: "Vendor app",
    uniqueName: "vendor-app",
    createdDateTime: "2026-01-01T00:00:00Z",
    requiredResourceAccess: [{ resourceAppId: WELL_KNOWN_APP_IDS.logAnalyticsApi, resourceAccess: [{ id: DATA_READ, type: "Role" }] }],
    passwordCredentials: [],
    ...overrides,
  };
}

const fresh: AppRegistrationLive = {
  app: null,
  servicePrincipal: null,
  logAnalytics,
  dataReadRoleId: DATA_READ,
  consentGranted: false,
  runCredential: null,
  secretStored: false,
};
const credential = { keyId: "key-1", displayName: runCredentialName("run-1"), hint: "abc", endDateTime: "2099-01-01T00:00:00Z" };
const complete: AppRegistrationLive = {
  app: app({ passwordCredentials: [credential] }),
  servicePrincipal: { id: "sp", appId: "app-id", displayName: "Vendor app", appRoles: [] },
  logAnalytics,
  dataReadRoleId: DATA_READ,
  consentGranted: true,
  runCredential: credential,
  secretStored: true,
};

describe("app-registration plan", () => {
  it("creates everything on a fresh tenant; the secret line carries the lifetime, never a value", () => {
    const plan = appRegistrationStep.plan(ctx, fresh);
    expect(plan.map((c) => [c.resourceType, c.action])).toEqual([
      ["Service principal", "no-change"],
      ["App registration", "create"],
      ["Service principal", "create"],
      ["Admin consent", "grant"],
      ["Client secret", "create"],
    ]);
    expect(plan[4]).toMatchObject({ resource: "aks-onboarding run-1", details: ["lifetime: 90 days"] });
  });

  it("creates the Log Analytics API service principal when the tenant lacks it", () => {
    const plan = appRegistrationStep.plan(ctx, { ...fresh, logAnalytics: null, dataReadRoleId: null });
    expect(plan[0]).toMatchObject({ action: "create", resource: "Log Analytics API" });
  });

  it("changes nothing when everything exists", () => {
    expect(appRegistrationStep.plan(ctx, complete).map((c) => c.action)).toEqual(Array(5).fill("no-change"));
  });

  it("updates the app when its name or declared permission drifted", () => {
    const drifted = { ...complete, app: app({ displayName: "Old name", requiredResourceAccess: [] }) };
    const plan = appRegistrationStep.plan(ctx, drifted);
    expect(plan[1]).toMatchObject({ action: "update" });
    expect(plan[1]?.details).toEqual([
      'displayName: "Old name" → "Vendor app"',
      "requiredResourceAccess: +Log Analytics API Data.Read (application)",
    ]);
  });

  it("adds no secret when this run's secret exists but was already handed off", () => {
    const plan = appRegistrationStep.plan(ctx, { ...complete, secretStored: false });
    expect(plan[4]).toMatchObject({ action: "no-change", why: expect.stringContaining("already handed off") });
  });

  it("creates a secret for a new run even when earlier runs left theirs", () => {
    const other = { ...credential, displayName: runCredentialName("run-0") };
    const plan = appRegistrationStep.plan(ctx, {
      ...complete,
      app: app({ passwordCredentials: [other] }),
      runCredential: null,
      secretStored: false,
    });
    expect(plan[4]?.action).toBe("create");
  });
});
