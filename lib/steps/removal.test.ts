import type { TokenCredential } from "@azure/core-auth";
import { describe, expect, it } from "vitest";
import { appRegistrationKeys, appRegistrationStep } from "./app-registration";
import { customRoleKeys, customRoleStep } from "./custom-role";
import { diagnosticSettingsKeys, diagnosticSettingsStep } from "./diagnostic-settings";
import { roleAssignmentKeys, roleAssignmentsStep } from "./role-assignments";
import { storageKeys, storageStep } from "./storage";
import type { LoggedWrite, RemovalContext, StepRemoval } from "./types";
import { workbenchHandoffKeys, workbenchHandoffStep } from "./workbench-handoff";

const ACCOUNT_ID = "/subscriptions/s1/resourceGroups/rg-audit/providers/Microsoft.Storage/storageAccounts/kubeaudit1";
const CLUSTER_ID = "/subscriptions/s1/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-payments";
const GUID = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

// Credentials that fail the test if a kept line ever reaches Azure.
const noAzure: TokenCredential = {
  getToken: () => {
    throw new Error("kept lines make no Azure call");
  },
};
const ctx = {
  tenantId: "t1",
  config: {
    tenantId: "t1",
    subscriptions: [{ id: "s1", displayName: "Prod" }],
    clusters: [],
    storage: [
      {
        region: "westeurope",
        subscriptionId: "s1",
        resourceGroup: "rg-own",
        createResourceGroup: false,
        accountName: "ownaudit",
        adopt: true,
      },
    ],
    options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180 },
    vendor: { name: "V", appUniqueName: "vendor-app", appDisplayName: "Vendor", egressIps: [] },
  },
  arm: noAzure,
  graph: noAzure,
  outputs: {},
  workbench: null,
} as unknown as RemovalContext;

const kept = (key: string, kinds: string[]): LoggedWrite => ({
  key,
  kinds,
  target: `target of ${key}`,
  resourceId: null,
  provenance: "kept",
});
const removal = (r: StepRemoval | undefined): StepRemoval => {
  if (!r) throw new Error("step has no removal");
  return r;
};

describe("step log keys", () => {
  it("parse back to what built them, and leave other steps' keys alone", () => {
    expect(storageKeys.parse(storageKeys.lifecycle(ACCOUNT_ID))).toEqual({ kind: "lifecycle", accountId: ACCOUNT_ID });
    expect(storageKeys.parse(storageKeys.account(ACCOUNT_ID))).toEqual({ kind: "account", accountId: ACCOUNT_ID });
    expect(storageKeys.parse(storageKeys.register("s1", "Microsoft.Insights"))).toEqual({
      kind: "register",
      subscriptionId: "s1",
      namespace: "Microsoft.Insights",
    });
    expect(storageKeys.parse(storageKeys.resourceGroup({ subscriptionId: "s1", resourceGroup: "rg-audit" }))).toEqual({
      kind: "resource-group",
      subscriptionId: "s1",
      resourceGroup: "rg-audit",
    });
    expect(diagnosticSettingsKeys.parse(diagnosticSettingsKeys.setting(CLUSTER_ID))).toMatchObject({ clusterId: CLUSTER_ID });
    expect(appRegistrationKeys.parse(appRegistrationKeys.secret("run1"))).toEqual({ kind: "secret", value: "aks-onboarding run1" });
    expect(appRegistrationKeys.parse(appRegistrationKeys.orphanSecret("run1", "k1"))?.kind).toBe("secret-orphan");
    expect(customRoleKeys.parse(customRoleKeys.put("r1"))).toEqual({ kind: "put", roleId: "r1" });
    expect(roleAssignmentKeys.parse(roleAssignmentKeys.assignment({ roleGuid: GUID, scope: CLUSTER_ID }))).toEqual({
      kind: "assignment",
      roleGuid: GUID,
      scope: CLUSTER_ID,
    });
    expect(workbenchHandoffKeys.parse(workbenchHandoffKeys.device("d1"))).toEqual({ kind: "device", deviceName: "d1" });
    expect(storageKeys.parse(customRoleKeys.put("r1"))).toBeNull();
    expect(customRoleKeys.parse(storageKeys.account(ACCOUNT_ID))).toBeNull();
    expect(appRegistrationKeys.parse("app-registration.unknown:x")).toBeNull();
  });

  it("are the strings existing runs logged (the operation log is persisted)", () => {
    expect(storageKeys.lifecycle(ACCOUNT_ID)).toBe(`storage.lifecycle:${ACCOUNT_ID}/managementPolicies/default`);
    expect(diagnosticSettingsKeys.setting(CLUSTER_ID)).toBe(
      `diagnostic-settings.setting:${CLUSTER_ID}/providers/Microsoft.Insights/diagnosticSettings/aks-onboarding-kube-audit`,
    );
    expect(appRegistrationKeys.consent("vendor-app")).toBe("app-registration.consent:vendor-app/Data.Read");
    expect(roleAssignmentKeys.assignment({ roleGuid: GUID, scope: "/subscriptions/s1" })).toBe(
      `role-assignments.${GUID}:/subscriptions/s1`,
    );
    expect(workbenchHandoffKeys.device("d1")).toBe("workbench-handoff.device:d1");
  });
});

describe("step removals: what they keep, without reading Azure", () => {
  it("storage keeps provider registrations (subscription-wide) and updates, and lists an adopted account with no logged write", async () => {
    const { lines, live } = await removal(storageStep.removal).plan(
      [kept(storageKeys.register("s1", "Microsoft.Insights"), ["register"]), kept(storageKeys.network(ACCOUNT_ID), ["update"])],
      ctx,
    );
    expect(live.size).toBe(0);
    expect(lines).toEqual([
      expect.objectContaining({
        category: null,
        resourceType: "Resource provider registration",
        why: expect.stringMatching(/subscription-wide/),
      }),
      expect.objectContaining({ category: null, resourceType: "Storage firewall", why: expect.stringMatching(/only updated/) }),
      expect.objectContaining({ category: "storage-account", resource: "ownaudit", action: "keep", why: expect.stringMatching(/adopted/) }),
    ]);
  });

  it("app registration keeps Microsoft's shared Log Analytics principal, and an adopted app", async () => {
    const { lines } = await removal(appRegistrationStep.removal).plan(
      [
        { ...kept(appRegistrationKeys.logAnalytics, ["create"]), provenance: "created" },
        kept(appRegistrationKeys.app("vendor-app"), ["adopt"]),
      ],
      ctx,
    );
    expect(lines).toEqual([
      expect.objectContaining({
        category: null,
        resourceType: "Log Analytics API service principal",
        why: expect.stringMatching(/shared/),
      }),
      expect.objectContaining({
        category: "application",
        resourceType: "App registration",
        resource: "vendor-app",
        why: expect.stringMatching(/adopted/),
      }),
    ]);
  });

  it("each step names its removable kinds in removal order and classifies its own keys", async () => {
    expect(removal(storageStep.removal).categories).toEqual(["lifecycle-policy", "storage-account", "resource-group"]);
    expect(removal(appRegistrationStep.removal).categories).toEqual(["consent", "client-secret", "application", "service-principal"]);
    const one = async (r: StepRemoval | undefined, key: string) => (await removal(r).plan([kept(key, ["update"])], ctx)).lines[0];
    expect(await one(customRoleStep.removal, customRoleKeys.put("r1"))).toMatchObject({ category: "custom-role", resource: "r1" });
    expect(await one(roleAssignmentsStep.removal, roleAssignmentKeys.assignment({ roleGuid: GUID, scope: CLUSTER_ID }))).toMatchObject({
      category: "role-assignment",
      resource: CLUSTER_ID,
    });
    expect(await one(diagnosticSettingsStep.removal, diagnosticSettingsKeys.setting(CLUSTER_ID))).toMatchObject({
      category: "diagnostic-setting",
      resource: "aks-payments/aks-onboarding-kube-audit",
    });
    expect(await one(workbenchHandoffStep.removal, workbenchHandoffKeys.deviceAccounts("d1"))).toMatchObject({
      category: null,
      resourceType: "Change",
    });
  });
});
