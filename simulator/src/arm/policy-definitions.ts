// Built-in Azure Policy definitions the simulator serves and evaluates, as GET /providers/Microsoft.Authorization/policyDefinitions/{guid} returns them.
// Source: Azure/azure-policy, built-in-policies/policyDefinitions/{Tags,General,Storage}/*.json (ids, names, modes, rules, parameters as published).

export interface PolicyDefinition {
  properties: {
    displayName: string;
    policyType: "BuiltIn";
    mode: "All" | "Indexed";
    description: string;
    metadata: { version: string; category: string };
    version: string;
    parameters: Record<string, { type: string; metadata: Record<string, unknown>; defaultValue?: unknown; allowedValues?: unknown[] }>;
    policyRule: { if: PolicyCondition; then: { effect: string } };
  };
  id: string;
  type: "Microsoft.Authorization/policyDefinitions";
  name: string;
}

/** A node of a policy rule's `if` (logical operators or a field/value condition). */
export type PolicyCondition = Record<string, unknown>;

const EFFECT_PARAMETER = (description: string) => ({
  type: "String",
  metadata: { displayName: "Effect", description },
  allowedValues: ["Audit", "Deny", "Disabled"],
  defaultValue: "Audit",
});
const TAG_NAME = { type: "String", metadata: { displayName: "Tag Name", description: "Name of the tag, such as 'environment'" } };
const TAG_VALUE = { type: "String", metadata: { displayName: "Tag Value", description: "Value of the tag, such as 'production'" } };
const TAG_FIELD = "[concat('tags[', parameters('tagName'), ']')]";

function builtin(
  name: string,
  p: Omit<PolicyDefinition["properties"], "policyType" | "version" | "metadata"> & { category: string; version: string },
): PolicyDefinition {
  const { category, version, ...rest } = p;
  return {
    properties: { ...rest, policyType: "BuiltIn", metadata: { version, category }, version },
    id: `/providers/Microsoft.Authorization/policyDefinitions/${name}`,
    type: "Microsoft.Authorization/policyDefinitions",
    name,
  };
}

export const BUILTIN_POLICY_DEFINITIONS: PolicyDefinition[] = [
  builtin("96670d01-0a4d-4649-9c89-2d3abc0a5025", {
    displayName: "Require a tag on resource groups",
    mode: "All",
    description: "Enforces existence of a tag on resource groups.",
    category: "Tags",
    version: "1.0.0",
    parameters: { tagName: TAG_NAME },
    policyRule: {
      if: {
        allOf: [
          { field: "type", equals: "Microsoft.Resources/subscriptions/resourceGroups" },
          { field: TAG_FIELD, exists: "false" },
        ],
      },
      then: { effect: "deny" },
    },
  }),
  builtin("871b6d14-10aa-478d-b590-94f262ecfa99", {
    displayName: "Require a tag on resources",
    mode: "Indexed",
    description: "Enforces existence of a tag. Does not apply to resource groups.",
    category: "Tags",
    version: "1.0.1",
    parameters: { tagName: TAG_NAME },
    policyRule: { if: { field: TAG_FIELD, exists: "false" }, then: { effect: "deny" } },
  }),
  builtin("8ce3da23-7156-49e4-b145-24f95f9dcb46", {
    displayName: "Require a tag and its value on resource groups",
    mode: "All",
    description: "Enforces a required tag and its value on resource groups.",
    category: "Tags",
    version: "1.0.0",
    parameters: { tagName: TAG_NAME, tagValue: TAG_VALUE },
    policyRule: {
      if: {
        allOf: [
          { field: "type", equals: "Microsoft.Resources/subscriptions/resourceGroups" },
          { field: TAG_FIELD, notEquals: "[parameters('tagValue')]" },
        ],
      },
      then: { effect: "deny" },
    },
  }),
  builtin("1e30110a-5ceb-460c-a204-c1c3969c6d62", {
    displayName: "Require a tag and its value on resources",
    mode: "Indexed",
    description: "Enforces a required tag and its value. Does not apply to resource groups.",
    category: "Tags",
    version: "1.0.1",
    parameters: { tagName: TAG_NAME, tagValue: TAG_VALUE },
    policyRule: { if: { not: { field: TAG_FIELD, equals: "[parameters('tagValue')]" } }, then: { effect: "deny" } },
  }),
  builtin("e56962a6-4747-49cd-b67b-bf8b01975c4c", {
    displayName: "Allowed locations",
    mode: "Indexed",
    description:
      "This policy enables you to restrict the locations your organization can specify when deploying resources. Use to enforce your geo-compliance requirements. Excludes resource groups, Microsoft.AzureActiveDirectory/b2cDirectories, and resources that use the 'global' region.",
    category: "General",
    version: "1.0.0",
    parameters: {
      listOfAllowedLocations: {
        type: "Array",
        metadata: {
          description: "The list of locations that can be specified when deploying resources.",
          strongType: "location",
          displayName: "Allowed locations",
        },
      },
    },
    policyRule: {
      if: {
        allOf: [
          { field: "location", notIn: "[parameters('listOfAllowedLocations')]" },
          { field: "location", notEquals: "global" },
          { field: "type", notEquals: "Microsoft.AzureActiveDirectory/b2cDirectories" },
        ],
      },
      then: { effect: "deny" },
    },
  }),
  builtin("e765b5de-1225-4ba3-bd56-1ac6695af988", {
    displayName: "Allowed locations for resource groups",
    mode: "All",
    description:
      "This policy enables you to restrict the locations your organization can create resource groups in. Use to enforce your geo-compliance requirements.",
    category: "General",
    version: "1.0.0",
    parameters: {
      listOfAllowedLocations: {
        type: "Array",
        metadata: {
          description: "The list of locations that resource groups can be created in.",
          strongType: "location",
          displayName: "Allowed locations",
        },
      },
    },
    policyRule: {
      if: {
        allOf: [
          { field: "type", equals: "Microsoft.Resources/subscriptions/resourceGroups" },
          { field: "location", notIn: "[parameters('listOfAllowedLocations')]" },
        ],
      },
      then: { effect: "deny" },
    },
  }),
  builtin("34c877ad-507e-4c82-993e-3452a6e0ad3c", {
    displayName: "Storage accounts should restrict network access",
    mode: "Indexed",
    description:
      "Network access to storage accounts should be restricted. Configure network rules so only applications from allowed networks can access the storage account. To allow connections from specific internet or on-premise clients, access can be granted to traffic from specific Azure virtual networks or to public internet IP address ranges",
    category: "Storage",
    version: "1.1.0",
    parameters: { effect: EFFECT_PARAMETER("The effect determines what happens when the policy rule is evaluated to match") },
    policyRule: {
      if: {
        allOf: [
          { field: "type", equals: "Microsoft.Storage/storageAccounts" },
          { field: "Microsoft.Storage/storageAccounts/networkAcls.defaultAction", notEquals: "Deny" },
        ],
      },
      then: { effect: "[parameters('effect')]" },
    },
  }),
  builtin("b2982f36-99f2-4db5-8eff-283140c09693", {
    displayName: "Storage accounts should disable public network access",
    mode: "All",
    description:
      "To improve the security of Storage Accounts, ensure that they aren't exposed to the public internet and can only be accessed from a private endpoint. Disable the public network access property as described in https://aka.ms/storageaccountpublicnetworkaccess. This option disables access from any public address space outside the Azure IP range, and denies all logins that match IP or virtual network-based firewall rules. This reduces data leakage risks.",
    category: "Storage",
    version: "1.0.1",
    parameters: { effect: EFFECT_PARAMETER("Enable or disable the execution of the policy") },
    policyRule: {
      if: {
        allOf: [
          { field: "type", equals: "Microsoft.Storage/storageAccounts" },
          { field: "Microsoft.Storage/storageAccounts/publicNetworkAccess", notEquals: "Disabled" },
        ],
      },
      then: { effect: "[parameters('effect')]" },
    },
  }),
  builtin("fe83a0eb-a853-422d-aac2-1bffd182c5d0", {
    displayName: "Storage accounts should have the specified minimum TLS version",
    mode: "Indexed",
    description:
      "Configure a minimum TLS version for secure communication between the client application and the storage account. To minimize security risk, the recommended minimum TLS version is the latest released version, which is currently TLS 1.2.",
    category: "Storage",
    version: "1.0.0",
    parameters: {
      effect: EFFECT_PARAMETER("Enable or disable the execution of the audit policy"),
      minimumTlsVersion: {
        type: "String",
        metadata: {
          displayName: "Minimum TLS Version",
          description: "Minimum version of TLS required to access data in this storage account",
        },
        allowedValues: ["TLS1_0", "TLS1_1", "TLS1_2"],
        defaultValue: "TLS1_2",
      },
    },
    policyRule: {
      if: {
        allOf: [
          { field: "type", equals: "Microsoft.Storage/storageAccounts" },
          {
            anyOf: [
              { field: "Microsoft.Storage/storageAccounts/minimumTlsVersion", notEquals: "[parameters('minimumTlsVersion')]" },
              { field: "Microsoft.Storage/storageAccounts/minimumTlsVersion", exists: "false" },
            ],
          },
        ],
      },
      then: { effect: "[parameters('effect')]" },
    },
  }),
];

/** A built-in definition by GUID or full id (case-insensitive). */
export function findBuiltinPolicy(idOrName: string): PolicyDefinition | undefined {
  const guid = (idOrName.split("/").pop() ?? "").toLowerCase();
  return BUILTIN_POLICY_DEFINITIONS.find((d) => d.name === guid);
}
