import { describe, expect, it } from "vitest";
import { secretEndDateTime } from "./add-application-password";
import { storageAccountCreateParameters, storageNetworkRules } from "./create-storage-account";
import { resourceGroupBody } from "./ensure-resource-group";
import { fullRoleDefinitionId, roleAssignmentBody } from "./create-role-assignment";
import { isValidStorageAccountName } from "./check-storage-account-name";
import { customRoleBody } from "./put-custom-role-definition";
import { kubeAuditSettingBody } from "./put-diagnostic-setting";
import { kubeAuditRetentionRule, withKubeAuditRule } from "./put-management-policy";
import { sdkScope, subscriptionOf } from "./clients";
import { applicationUpsertBody } from "./upsert-application";

const SUB = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";

describe("storage account body", () => {
  it("is the secure baseline, open by default", () => {
    expect(storageAccountCreateParameters({ name: "acct", location: "eastus" })).toEqual({
      location: "eastus",
      kind: "StorageV2",
      sku: { name: "Standard_LRS" },
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
      enableHttpsTrafficOnly: true,
      allowCrossTenantReplication: false,
      publicNetworkAccess: "Enabled",
      networkRuleSet: { defaultAction: "Allow", bypass: "AzureServices" },
    });
  });

  it("carries the run's tags", () => {
    const tags = { costCenter: "cc-1234", "managed-by": "aks-onboarding-portal" };
    expect(storageAccountCreateParameters({ name: "acct", location: "eastus", tags }).tags).toEqual(tags);
  });

  it("restricts to the given IPs, keeps the trusted-services bypass, sends bare /32 addresses", () => {
    expect(storageNetworkRules(["203.0.113.7/32", "198.51.100.0/24"])).toEqual({
      defaultAction: "Deny",
      bypass: "AzureServices",
      ipRules: [
        { iPAddressOrRange: "203.0.113.7", action: "Allow" },
        { iPAddressOrRange: "198.51.100.0/24", action: "Allow" },
      ],
    });
  });

  it("checks names locally", () => {
    expect(isValidStorageAccountName("contosoaudit01")).toBe(true);
    for (const bad of ["ab", "Upper", "with-dash", "a".repeat(25)]) expect(isValidStorageAccountName(bad)).toBe(false);
  });
});

describe("resource group body", () => {
  it("is the region and the run's tags, without an empty tags object", () => {
    expect(resourceGroupBody("eastus", { costCenter: "cc-1234" })).toEqual({ location: "eastus", tags: { costCenter: "cc-1234" } });
    expect(resourceGroupBody("eastus", {})).toEqual({ location: "eastus" });
    expect(resourceGroupBody("eastus", undefined)).toEqual({ location: "eastus" });
  });
});

describe("lifecycle rule", () => {
  it("deletes kube-audit append and block blobs after N days", () => {
    expect(kubeAuditRetentionRule(30)).toEqual({
      name: "kube-audit-retention",
      enabled: true,
      type: "Lifecycle",
      definition: {
        filters: { blobTypes: ["appendBlob", "blockBlob"], prefixMatch: ["insights-logs-kube-audit/"] },
        actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: 30 } } },
      },
    });
  });

  it("refuses fewer than 7 days or fractions", () => {
    expect(() => kubeAuditRetentionRule(6)).toThrow(/at least 7/);
    expect(() => kubeAuditRetentionRule(7.5)).toThrow(/whole number/);
  });

  it("replaces only its own rule", () => {
    const other = { name: "archive", type: "Lifecycle", definition: { actions: {} } };
    const rules = withKubeAuditRule([other, kubeAuditRetentionRule(7)], 90);
    expect(rules.map((r) => r.name)).toEqual(["archive", "kube-audit-retention"]);
    expect(rules[1]?.definition.actions.baseBlob?.delete?.daysAfterModificationGreaterThan).toBe(90);
  });
});

describe("diagnostic setting body", () => {
  it("sends kube-audit to storage and no retention policy", () => {
    const id = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a`;
    expect(kubeAuditSettingBody(id)).toEqual({ storageAccountId: id, logs: [{ category: "kube-audit", enabled: true }] });
  });

  it("strips the leading slash for the SDK's path template and finds the subscription", () => {
    expect(sdkScope(`/subscriptions/${SUB}/resourceGroups/rg`)).toBe(`subscriptions/${SUB}/resourceGroups/rg`);
    expect(subscriptionOf(`/subscriptions/${SUB}/resourceGroups/rg`)).toBe(SUB);
    expect(() => subscriptionOf("/providers/x")).toThrow();
  });
});

describe("custom role body", () => {
  it("assigns to the subscriptions, deduplicated and sorted", () => {
    const body = customRoleBody({
      roleId: "x",
      roleName: "AKS audit reader",
      description: "d",
      permissions: [{ actions: ["Microsoft.ContainerService/managedClusters/read"], notActions: [], dataActions: [], notDataActions: [] }],
      subscriptionIds: ["B", "a", "b"],
    });
    expect(body).toMatchObject({
      roleName: "AKS audit reader",
      roleType: "CustomRole",
      assignableScopes: ["/subscriptions/a", "/subscriptions/b"],
    });
  });

  it("needs a subscription", () => {
    expect(() => customRoleBody({ roleId: "x", roleName: "r", description: "", permissions: [], subscriptionIds: [] })).toThrow();
  });
});

describe("role assignment body", () => {
  const scope = `/subscriptions/${SUB}`;
  it("targets a service principal and adds conditionVersion 2.0 only with a condition", () => {
    expect(roleAssignmentBody({ scope, roleDefinitionId: "73C42C96-874c-492b-b04d-ab87d138a893", principalId: "p" })).toEqual({
      roleDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/73c42c96-874c-492b-b04d-ab87d138a893`,
      principalId: "p",
      principalType: "ServicePrincipal",
    });
    expect(roleAssignmentBody({ scope, roleDefinitionId: "r", principalId: "p", condition: "(x)" })).toMatchObject({
      condition: "(x)",
      conditionVersion: "2.0",
    });
  });

  it("keeps a full role definition id", () => {
    const full = "/providers/Microsoft.Authorization/roleDefinitions/abc";
    expect(fullRoleDefinitionId(scope, full)).toBe(full);
  });
});

describe("application upsert body", () => {
  it("declares application permissions as Role entries", () => {
    expect(
      applicationUpsertBody({
        uniqueName: "vendor-aks-audit",
        displayName: "Vendor",
        requiredAppRoles: [{ resourceAppId: "la", appRoleIds: ["r1"] }],
      }),
    ).toEqual({
      displayName: "Vendor",
      signInAudience: "AzureADMyOrg",
      requiredResourceAccess: [{ resourceAppId: "la", resourceAccess: [{ id: "r1", type: "Role" }] }],
    });
  });

  it("refuses unique names that would need escaping", () => {
    expect(() => applicationUpsertBody({ uniqueName: "x')", displayName: "x", requiredAppRoles: [] })).toThrow();
  });
});

describe("secret end date", () => {
  it("is lifetimeDays after now, bounded", () => {
    expect(secretEndDateTime(90, new Date("2026-01-01T00:00:00Z"))).toBe("2026-04-01T00:00:00.000Z");
    expect(() => secretEndDateTime(0)).toThrow();
    expect(() => secretEndDateTime(731)).toThrow();
  });
});
