import { createHttpHeaders, createPipelineRequest, RestError } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import { classifyAzureError, toAzureError } from "./errors";
import { demandOf, policyViolationsOf } from "./policy-denial";

const SUB = "/subscriptions/00000000-0000-0000-0000-000000000000";

/** An ARM 403 as the SDK throws it: code and message lifted, the body kept on the response. */
function denied(body: unknown): RestError {
  const text = JSON.stringify(body);
  const error = body as { error: { code: string; message: string } };
  return new RestError(error.error.message, {
    statusCode: 403,
    code: error.error.code,
    response: {
      status: 403,
      headers: createHttpHeaders(),
      request: createPipelineRequest({ url: "https://management.azure.com/x" }),
      bodyAsText: text,
    },
  });
}

function identifiers(assignment: string, assignmentId: string, definition: string, definitionId: string): string {
  return JSON.stringify([
    { policyAssignment: { name: assignment, id: assignmentId }, policyDefinition: { name: definition, id: definitionId } },
  ]);
}

// The storage-account answer quoted in Azure/AKS#3644's research (ids zeroed there), trimmed to the fields read.
const sharedKeyDenial = {
  error: {
    code: "RequestDisallowedByPolicy",
    target: "ff88c077ec03944d0afb68f",
    message: `Resource 'ff88c077ec03944d0afb68f' was disallowed by policy. Policy identifiers: '${identifiers(
      "Storage Account Creation Denied When Shared Access Key Is Enabled",
      `${SUB}/providers/Microsoft.Authorization/policyAssignments/0aedc612157c4e8cbaf9605e`,
      "Storage Account Creation Denied When Shared Access Key Is Enabled",
      `${SUB}/providers/Microsoft.Authorization/policyDefinitions/73df4292-f7d6-4cfc-af96-99de6835958a`,
    )}'.`,
    additionalInfo: [
      {
        type: "PolicyViolation",
        info: {
          evaluationDetails: {
            evaluatedExpressions: [
              {
                result: "True",
                expressionKind: "Field",
                expression: "type",
                path: "type",
                expressionValue: "Microsoft.Storage/storageAccounts",
                targetValue: "Microsoft.Storage/storageAccounts",
                operator: "Equals",
              },
              {
                result: "True",
                expressionKind: "Field",
                expression: "Microsoft.Storage/storageAccounts/allowSharedKeyAccess",
                path: "properties.allowSharedKeyAccess",
                expressionValue: "******",
                targetValue: "false",
                operator: "Exists",
              },
            ],
          },
          policyDefinitionId: `${SUB}/providers/Microsoft.Authorization/policyDefinitions/73df4292-f7d6-4cfc-af96-99de6835958a`,
          policyDefinitionName: "73df4292-f7d6-4cfc-af96-99de6835958a",
          policyDefinitionDisplayName: "Storage Account Creation Denied When Shared Access Key Is Enabled",
          policyDefinitionEffect: "deny",
          policyAssignmentId: `${SUB}/providers/Microsoft.Authorization/policyAssignments/0aedc612157c4e8cbaf9605e`,
          policyAssignmentName: "0aedc612157c4e8cbaf9605e",
          policyAssignmentDisplayName: "Storage Account Creation Denied When Shared Access Key Is Enabled",
          policyAssignmentScope: SUB,
          policyAssignmentParameters: {},
          policyExemptionIds: [],
        },
      },
    ],
  },
};

function requiredTagDenial(displayName: string | undefined) {
  const assignmentId = `${SUB}/providers/Microsoft.Authorization/policyAssignments/require-costcenter-rg`;
  const definitionId = "/providers/Microsoft.Authorization/policyDefinitions/96670d01-0a4d-4649-9c89-2d3abc0a5025";
  return {
    error: {
      code: "RequestDisallowedByPolicy",
      target: "rg-aks-audit",
      message: `Resource 'rg-aks-audit' was disallowed by policy. Policy identifiers: '${identifiers(displayName ?? "require-costcenter-rg", assignmentId, "Require a tag on resource groups", definitionId)}'.`,
      additionalInfo: [
        {
          type: "PolicyViolation",
          info: {
            evaluationDetails: {
              evaluatedExpressions: [
                {
                  result: "False",
                  expressionKind: "Field",
                  expression: "tags[costCenter]",
                  path: "tags[costCenter]",
                  targetValue: "false",
                  operator: "Exists",
                },
              ],
            },
            policyDefinitionId: definitionId,
            policyDefinitionName: "96670d01-0a4d-4649-9c89-2d3abc0a5025",
            policyDefinitionDisplayName: "Require a tag on resource groups",
            policyDefinitionEffect: "deny",
            policyAssignmentId: assignmentId,
            policyAssignmentName: "require-costcenter-rg",
            ...(displayName ? { policyAssignmentDisplayName: displayName } : {}),
            policyAssignmentScope: SUB,
            policyAssignmentParameters: { tagName: { value: "costCenter" } },
          },
        },
      ],
    },
  };
}

const ctx = { action: "create the storage account auditeastus" };

describe("RequestDisallowedByPolicy", () => {
  it("names the assignment by display name, what it demands and what to change, without raw JSON", () => {
    const e = toAzureError(denied(requiredTagDenial("Cost center on every resource group")), {
      action: "create the resource group rg-aks-audit",
    });
    expect(e.code).toBe("policy_denied");
    expect(e.azureCode).toBe("RequestDisallowedByPolicy");
    expect(e.message).toBe(
      "Azure Policy denied the request, so the portal could not create the resource group rg-aks-audit. Azure Policy assignment 'Cost center on every resource group' requires the tag 'costCenter' on resource groups: add it under the run's tags (Change choices) and retry.",
    );
    expect(e.message).not.toMatch(/[{}[\]]/);
  });

  it("falls back to the assignment's name when it has no display name", () => {
    expect(toAzureError(denied(requiredTagDenial(undefined)), ctx).message).toContain(
      "assignment 'require-costcenter-rg' requires the tag 'costCenter'",
    );
  });

  it("reads a real storage answer (shared key) from additionalInfo", () => {
    const e = toAzureError(denied(sharedKeyDenial), ctx);
    expect(e.code).toBe("policy_denied");
    expect(e.message).toContain(
      "'Storage Account Creation Denied When Shared Access Key Is Enabled' requires storage accounts without shared key access",
    );
    expect(e.message).toContain("Resource Policy Contributor or Owner");
  });

  it("reads the message's policy identifiers when additionalInfo is missing", () => {
    const body = structuredClone(sharedKeyDenial) as { error: { additionalInfo?: unknown } };
    delete body.error.additionalInfo;
    const violations = policyViolationsOf(denied(body), (body as typeof sharedKeyDenial).error.message);
    expect(violations).toEqual([
      expect.objectContaining({
        assignment: "Storage Account Creation Denied When Shared Access Key Is Enabled",
        definitionName: "73df4292-f7d6-4cfc-af96-99de6835958a",
      }),
    ]);
  });

  it("says what to check when the answer names no policy", () => {
    const e = toAzureError(
      new RestError("The resource action is disallowed by one or more policies.", { statusCode: 403, code: "RequestDisallowedByPolicy" }),
      ctx,
    );
    expect(e.code).toBe("policy_denied");
    expect(e.message).toContain("Policy → Assignments");
  });

  it("is permanent: a retry without a change is denied again", () => {
    expect(classifyAzureError(denied(requiredTagDenial("x")))).toBe("permanent");
  });
});

describe("demandOf", () => {
  const base = { assignment: "a", parameters: {}, paths: [] as string[] };

  it.each([
    [
      { definitionName: "871b6d14-10aa-478d-b590-94f262ecfa99", parameters: { tagName: "env" } },
      { kind: "tag", tag: "env", on: "resources" },
    ],
    [
      { definitionName: "1e30110a-5ceb-460c-a204-c1c3969c6d62", parameters: { tagName: "env", tagValue: "prod" } },
      { kind: "tag", tag: "env", value: "prod", on: "resources" },
    ],
    [
      { definitionName: "8ce3da23-7156-49e4-b145-24f95f9dcb46", parameters: { tagName: "env", tagValue: "prod" } },
      { kind: "tag", tag: "env", value: "prod", on: "resource groups" },
    ],
    [
      { definitionName: "e56962a6-4747-49cd-b67b-bf8b01975c4c", parameters: { listOfAllowedLocations: ["westeurope", "northeurope"] } },
      { kind: "locations", allowed: ["westeurope", "northeurope"] },
    ],
    [{ definitionName: "34c877ad-507e-4c82-993e-3452a6e0ad3c" }, { kind: "restrict-network" }],
    [{ definitionName: "b2982f36-99f2-4db5-8eff-283140c09693" }, { kind: "disable-public-network" }],
    [
      { definitionName: "fe83a0eb-a853-422d-aac2-1bffd182c5d0", parameters: { minimumTlsVersion: "TLS1_2" } },
      { kind: "minimum-tls", version: "TLS1_2" },
    ],
    // Custom definitions: recognised by what Azure evaluated.
    [{ definition: "Corp: storage firewall", paths: ["properties.networkAcls.defaultAction"] }, { kind: "restrict-network" }],
    [
      { definition: "Corp tagging standard", paths: ["tags[owner]"] },
      { kind: "tag", tag: "owner", on: "resources" },
    ],
    [{ definition: "Something else" }, { kind: "other" }],
  ] as const)("%j → %j", (v, expected) => {
    expect(
      demandOf({
        ...base,
        ...v,
        parameters: { ...(v as { parameters?: Record<string, unknown> }).parameters },
        paths: [...((v as { paths?: readonly string[] }).paths ?? [])],
      }),
    ).toEqual(expected);
  });
});

describe("locks and disabled subscriptions", () => {
  it("names the locked scope and who can remove the lock", () => {
    const scope = "/subscriptions/1111/resourceGroups/rg-aks-audit";
    const e = toAzureError(
      new RestError(
        `The scope '${scope}/providers/Microsoft.Storage/storageAccounts/acct' cannot perform delete operation because following scope(s) are locked: '${scope}'. Please remove the lock and try again.`,
        {
          statusCode: 409,
          code: "ScopeLocked",
        },
      ),
      { action: "delete the storage account acct" },
    );
    expect(e.code).toBe("scope_locked");
    expect(e.message).toBe(
      `A resource lock on ${scope} blocks every delete, so the portal could not delete the storage account acct. An Owner or User Access Administrator of that scope can remove the lock (Azure portal → Locks); then retry.`,
    );
    expect(classifyAzureError(e)).toBe("permanent");
  });

  it("says a disabled subscription must be re-enabled by its billing owner", () => {
    const e = toAzureError(
      new RestError(
        "The subscription '3bb6fd82-796d-4ad5-87f0-4d9d47d09ae6' is disabled and therefore marked as read only. You cannot perform any write actions on this subscription until it is re-enabled.",
        {
          statusCode: 409,
          code: "ReadOnlyDisabledSubscription",
        },
      ),
      ctx,
    );
    expect(e.code).toBe("subscription_disabled");
    expect(e.message).toContain("subscription 3bb6fd82-796d-4ad5-87f0-4d9d47d09ae6 is disabled");
    expect(e.message).toContain("Account Administrator or billing owner");
    expect(classifyAzureError(e)).toBe("permanent");
  });
});
