import { describe, expect, it } from "vitest";
import type { PolicyAssignment, PolicyDefinition } from "@/lib/azure/list-policy-assignments";
import {
  assignmentCovers,
  customTagRule,
  expandInitiatives,
  loadRequiredTags,
  requiredTagsFrom,
  type CreationTarget,
} from "./required-tags";

const SUB = "11111111-1111-4111-8111-111111111111";
const OTHER = "22222222-2222-4222-8222-222222222222";
const target: CreationTarget = { subscriptionId: SUB, subscriptionName: "Production", resourceGroup: "rg-aks-audit" };
const BUILT_IN = (guid: string) => `/providers/Microsoft.Authorization/policyDefinitions/${guid}`;
const REQUIRE_TAG_RG = BUILT_IN("96670d01-0a4d-4649-9c89-2d3abc0a5025");
const REQUIRE_TAG_RESOURCES = BUILT_IN("871b6d14-10aa-478d-b590-94f262ecfa99");
const REQUIRE_TAG_VALUE_RG = BUILT_IN("8ce3da23-7156-49e4-b145-24f95f9dcb46");

function assignment(over: Partial<PolicyAssignment>): PolicyAssignment {
  return {
    id: `/subscriptions/${SUB}/providers/Microsoft.Authorization/policyAssignments/a1`,
    name: "a1",
    displayName: "Cost center on resource groups",
    policyDefinitionId: REQUIRE_TAG_RG,
    scope: `/subscriptions/${SUB}`,
    notScopes: [],
    parameters: { tagName: "costCenter" },
    enforcementMode: "Default",
    ...over,
  };
}

const none = new Map<string, PolicyDefinition>();

describe("requiredTagsFrom", () => {
  it("pre-fills the tag of an enforced built-in assignment at the subscription, naming the assignment", () => {
    expect(requiredTagsFrom([assignment({})], none, [target])).toEqual([
      { name: "costCenter", assignments: ["Cost center on resource groups"], on: ["resource groups"] },
    ]);
  });

  it("merges the same tag (case-insensitively) from resource-group and resource policies, and keeps a fixed value", () => {
    const tags = requiredTagsFrom(
      [
        assignment({}),
        assignment({ name: "a2", displayName: null, policyDefinitionId: REQUIRE_TAG_RESOURCES, parameters: { tagName: "CostCenter" } }),
        assignment({
          name: "a3",
          displayName: "Env prod",
          policyDefinitionId: REQUIRE_TAG_VALUE_RG,
          parameters: { tagName: "env", tagValue: "prod" },
        }),
      ],
      none,
      [target],
    );
    expect(tags).toEqual([
      { name: "costCenter", assignments: ["Cost center on resource groups", "a2"], on: ["resource groups", "resources"] },
      { name: "env", value: "prod", assignments: ["Env prod"], on: ["resource groups"] },
    ]);
  });

  it("ignores assignments that are not enforced (DoNotEnforce)", () => {
    expect(requiredTagsFrom([assignment({ enforcementMode: "DoNotEnforce" })], none, [target])).toEqual([]);
  });

  it("ignores assignments whose scope doesn't reach where the portal creates things", () => {
    const elsewhere = [
      assignment({ scope: `/subscriptions/${OTHER}` }),
      assignment({ scope: `/subscriptions/${SUB}/resourceGroups/rg-apps` }),
      // A prefix of the name is not the scope: rg-aks-audit-old does not contain rg-aks-audit.
      assignment({ scope: `/subscriptions/${SUB}/resourceGroups/rg-aks-audit-old` }),
    ];
    expect(requiredTagsFrom(elsewhere, none, [target])).toEqual([]);
    expect(requiredTagsFrom([assignment({ scope: `/subscriptions/${SUB}/resourcegroups/RG-AKS-AUDIT` })], none, [target])).toHaveLength(1);
  });

  it("honours notScopes that contain the resource group, and management-group scopes", () => {
    expect(requiredTagsFrom([assignment({ notScopes: [`/subscriptions/${SUB}/resourceGroups/rg-aks-audit`] })], none, [target])).toEqual(
      [],
    );
    expect(requiredTagsFrom([assignment({ notScopes: [`/subscriptions/${SUB}`] })], none, [target])).toEqual([]);
    expect(requiredTagsFrom([assignment({ notScopes: [`/subscriptions/${SUB}/resourceGroups/rg-apps`] })], none, [target])).toHaveLength(1);
    expect(requiredTagsFrom([assignment({ scope: "/providers/Microsoft.Management/managementGroups/corp" })], none, [target])).toHaveLength(
      1,
    );
  });

  it("skips an assignment without its tag parameter, and unknown definitions it couldn't read", () => {
    expect(
      requiredTagsFrom(
        [
          assignment({ parameters: {} }),
          assignment({ policyDefinitionId: `/subscriptions/${SUB}/providers/Microsoft.Authorization/policyDefinitions/custom` }),
        ],
        none,
        [target],
      ),
    ).toEqual([]);
  });

  it("recognises a custom definition of the same shape when its effect resolves to deny", () => {
    const id = `/subscriptions/${SUB}/providers/Microsoft.Authorization/policyDefinitions/corp-owner-tag`;
    const definition: PolicyDefinition = {
      id,
      name: "corp-owner-tag",
      displayName: "Corp: owner tag",
      mode: "Indexed",
      policyRule: {
        if: { field: "[concat('tags[', parameters('tag'), ']')]", exists: "false" },
        then: { effect: "[parameters('effect')]" },
      },
      parameterDefaults: { tag: "owner", effect: "Deny" },
    };
    const defs = new Map([[id.toLowerCase(), definition]]);
    expect(requiredTagsFrom([assignment({ policyDefinitionId: id, parameters: {} })], defs, [target])).toEqual([
      { name: "owner", assignments: ["Cost center on resource groups"], on: ["resources"] },
    ]);
    expect(requiredTagsFrom([assignment({ policyDefinitionId: id, parameters: { effect: "Audit" } })], defs, [target])).toEqual([]);
  });
});

describe("customTagRule", () => {
  it("reads the resource-group form with a literal tag and a value", () => {
    expect(
      customTagRule({
        mode: "All",
        policyRule: {
          if: {
            allOf: [
              { field: "type", equals: "Microsoft.Resources/subscriptions/resourceGroups" },
              { field: "tags['dept']", notEquals: "[parameters('dept')]" },
            ],
          },
          then: { effect: "deny" },
        },
      }),
    ).toEqual({ tag: { literal: "dept" }, value: { param: "dept" }, on: ["resource groups"], effect: "deny" });
  });

  it("declines rules with other conditions or for other resource types", () => {
    expect(
      customTagRule({
        mode: "Indexed",
        policyRule: {
          if: {
            allOf: [
              { field: "location", equals: "eastus" },
              { field: "tags.x", exists: "false" },
            ],
          },
          then: { effect: "deny" },
        },
      }),
    ).toBeUndefined();
    expect(
      customTagRule({
        mode: "Indexed",
        policyRule: {
          if: {
            allOf: [
              { field: "type", equals: "Microsoft.Compute/virtualMachines" },
              { field: "tags.x", exists: "false" },
            ],
          },
          then: { effect: "deny" },
        },
      }),
    ).toBeUndefined();
  });
});

describe("assignmentCovers", () => {
  it("is true at or above the resource group, false beside it", () => {
    const rg = `/subscriptions/${SUB}/resourceGroups/rg-aks-audit`;
    expect(assignmentCovers({ scope: `/subscriptions/${SUB}/`, notScopes: [] }, rg)).toBe(true);
    expect(assignmentCovers({ scope: rg, notScopes: [] }, rg)).toBe(true);
    expect(assignmentCovers({ scope: `${rg}/providers/Microsoft.Storage/storageAccounts/x`, notScopes: [] }, rg)).toBe(false);
  });
});

describe("expandInitiatives", () => {
  const setId = "/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Authorization/policySetDefinitions/corp-tagging";
  const sets = new Map([
    [
      setId.toLowerCase(),
      {
        id: setId,
        members: [
          { policyDefinitionId: REQUIRE_TAG_RG, parameters: { tagName: "[parameters('rgTag')]" } },
          { policyDefinitionId: REQUIRE_TAG_RESOURCES, parameters: { tagName: "owner" } },
        ],
        parameterDefaults: { rgTag: "costCenter" },
      },
    ],
  ]);

  it("gives each member the initiative's parameter values, from the assignment or the initiative's defaults", () => {
    const viaDefault = expandInitiatives([assignment({ policyDefinitionId: setId, parameters: {}, displayName: "Corp tagging" })], sets);
    expect(requiredTagsFrom(viaDefault, none, [target])).toEqual([
      { name: "costCenter", assignments: ["Corp tagging"], on: ["resource groups"] },
      { name: "owner", assignments: ["Corp tagging"], on: ["resources"] },
    ]);
    const viaAssignment = expandInitiatives([assignment({ policyDefinitionId: setId, parameters: { rgTag: "dept" } })], sets);
    expect(viaAssignment.map((a) => a.parameters.tagName)).toEqual(["dept", "owner"]);
  });

  it("leaves out an initiative it couldn't read, and keeps plain assignments as they are", () => {
    const plain = assignment({});
    expect(expandInitiatives([assignment({ policyDefinitionId: `${setId}-other` }), plain], sets)).toEqual([plain]);
  });
});

describe("loadRequiredTags", () => {
  it("turns policies it can't read into a note, never an error", async () => {
    const refused = {
      getToken: () => Promise.reject(Object.assign(new Error("Forbidden"), { statusCode: 403, code: "AuthorizationFailed" })),
    };
    expect(await loadRequiredTags(refused, [target])).toEqual({
      tags: [],
      notes: ["Couldn't read the Azure Policy assignments of Production, so tags its policies require aren't pre-filled."],
    });
  });
});
