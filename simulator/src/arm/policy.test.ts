import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { loadScenario } from "../index";
import { simJson, simToken, startTestSimulator } from "../testing";
import { OWNER, READER, SUB_PROD } from "./test-support";

const SCENARIO = path.join("simulator", "scenarios", "policy-deny.json");
const PROD = `/subscriptions/${SUB_PROD}`;
const BUILTIN = "/providers/Microsoft.Authorization/policyDefinitions";

let sim: RunningSimulator;
let owner: string;
beforeAll(async () => {
  sim = await startTestSimulator({ scenario: SCENARIO });
  sim.state().latency.lroMs.storageAccount = 50;
  owner = await simToken(sim, { upn: OWNER, resource: "arm" });
});
afterAll(async () => sim.close());

const compliant = {
  location: "eastus",
  kind: "StorageV2",
  sku: { name: "Standard_LRS" },
  tags: { costCenter: "cc-4711" },
  properties: { minimumTlsVersion: "TLS1_2", networkAcls: { defaultAction: "Deny", bypass: "AzureServices" } },
};
const accountPath = (name: string, rg = "rg-aks-prod-eastus") =>
  `${PROD}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/${name}?api-version=2025-08-01`;

/** The policy definition names that denied a request. */
function deniedBy(body: { error: { additionalInfo: { info: { policyDefinitionName: string } }[] } }): string[] {
  return body.error.additionalInfo.map((a) => a.info.policyDefinitionName).sort();
}

describe("policy assignments and built-in definitions", () => {
  it("lists the subscription's assignments for a Reader and gets one by name", async () => {
    const reader = await simToken(sim, { upn: READER, resource: "arm" });
    const listed = await simJson(sim, "GET", `${PROD}/providers/Microsoft.Authorization/policyAssignments?api-version=2023-04-01`, {
      token: reader,
    });
    expect(listed.status).toBe(200);
    expect(listed.body.value.map((a: { name: string }) => a.name)).toContain("require-costcenter-rg");
    const one = await simJson(
      sim,
      "GET",
      `${PROD}/providers/Microsoft.Authorization/policyAssignments/require-costcenter-rg?api-version=2022-06-01`,
      { token: reader },
    );
    expect(one.body).toMatchObject({
      id: `${PROD}/providers/Microsoft.Authorization/policyAssignments/require-costcenter-rg`,
      type: "Microsoft.Authorization/policyAssignments",
      name: "require-costcenter-rg",
      properties: {
        policyDefinitionId: `${BUILTIN}/96670d01-0a4d-4649-9c89-2d3abc0a5025`,
        scope: PROD,
        notScopes: [],
        parameters: { tagName: { value: "costCenter" } },
        enforcementMode: "Default",
      },
    });
    const missing = await simJson(sim, "GET", `${PROD}/providers/Microsoft.Authorization/policyAssignments/nope?api-version=2023-04-01`, {
      token: reader,
    });
    expect(missing.status).toBe(404);
    const badVersion = await simJson(sim, "GET", `${PROD}/providers/Microsoft.Authorization/policyAssignments?api-version=2099-01-01`, {
      token: reader,
    });
    expect(badVersion.body.error.code).toBe("InvalidApiVersionParameter");
  });

  it("lists a resource group's assignments inherited from the subscription; atScope() filters to at-and-above", async () => {
    const rg = await simJson(
      sim,
      "GET",
      `${PROD}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.Authorization/policyAssignments?api-version=2023-04-01&$filter=atScope()`,
      { token: owner },
    );
    expect(rg.status).toBe(200);
    expect(rg.body.value).toHaveLength(6);
  });

  it("serves built-in definitions with their rule and parameters to any signed-in caller", async () => {
    const reader = await simToken(sim, { upn: READER, resource: "arm" });
    const def = await simJson(sim, "GET", `${BUILTIN}/fe83a0eb-a853-422d-aac2-1bffd182c5d0?api-version=2023-04-01`, { token: reader });
    expect(def.status).toBe(200);
    expect(def.body).toMatchObject({
      name: "fe83a0eb-a853-422d-aac2-1bffd182c5d0",
      type: "Microsoft.Authorization/policyDefinitions",
      properties: {
        displayName: "Storage accounts should have the specified minimum TLS version",
        policyType: "BuiltIn",
        mode: "Indexed",
        parameters: { minimumTlsVersion: { defaultValue: "TLS1_2" } },
        policyRule: { then: { effect: "[parameters('effect')]" } },
      },
    });
    expect(
      (await simJson(sim, "GET", `${BUILTIN}/00000000-0000-0000-0000-000000000000?api-version=2023-04-01`, { token: reader })).status,
    ).toBe(404);
    const all = await simJson(sim, "GET", `${BUILTIN}?api-version=2023-04-01`, { token: reader });
    expect(all.body.value.map((d: { name: string }) => d.name)).toContain("34c877ad-507e-4c82-993e-3452a6e0ad3c");
  });
});

describe("deny evaluation", () => {
  it("refuses a resource group without the required tag with RequestDisallowedByPolicy, as Learn documents it", async () => {
    const res = await simJson(sim, "PUT", `${PROD}/resourcegroups/rg-aks-audit?api-version=2025-04-01`, {
      token: owner,
      body: { location: "eastus" },
    });
    expect(res.status).toBe(403);
    const assignmentId = `${PROD}/providers/Microsoft.Authorization/policyAssignments/require-costcenter-rg`;
    const definitionId = `${BUILTIN}/96670d01-0a4d-4649-9c89-2d3abc0a5025`;
    expect(res.body.error.code).toBe("RequestDisallowedByPolicy");
    expect(res.body.error.target).toBe("rg-aks-audit");
    expect(res.body.error.message).toBe(
      `Resource 'rg-aks-audit' was disallowed by policy. Policy identifiers: '[{"policyAssignment":{"name":"Require costCenter on resource groups","id":"${assignmentId}"},"policyDefinition":{"name":"Require a tag on resource groups","id":"${definitionId}"}}]'.`,
    );
    expect(res.body.error.additionalInfo).toEqual([
      {
        type: "PolicyViolation",
        info: expect.objectContaining({
          policyDefinitionId: definitionId,
          policyDefinitionName: "96670d01-0a4d-4649-9c89-2d3abc0a5025",
          policyDefinitionDisplayName: "Require a tag on resource groups",
          policyDefinitionEffect: "deny",
          policyAssignmentId: assignmentId,
          policyAssignmentName: "require-costcenter-rg",
          policyAssignmentDisplayName: "Require costCenter on resource groups",
          policyAssignmentScope: PROD,
          policyAssignmentParameters: { tagName: { value: "costCenter" } },
          evaluationDetails: {
            evaluatedExpressions: [
              expect.objectContaining({ result: "True", expression: "type", operator: "Equals" }),
              expect.objectContaining({ result: "True", expression: "tags[costCenter]", operator: "Exists", targetValue: "false" }),
            ],
          },
        }),
      },
    ]);
    expect((await simJson(sim, "GET", `${PROD}/resourcegroups/rg-aks-audit?api-version=2025-04-01`, { token: owner })).status).toBe(404);
    // Allowed locations is mode Indexed: it does not apply to resource groups.
    const tagged = await simJson(sim, "PUT", `${PROD}/resourcegroups/rg-aks-audit?api-version=2025-04-01`, {
      token: owner,
      body: { location: "northeurope", tags: { costCenter: "cc-1" } },
    });
    expect(tagged.status).toBe(201);
  });

  it("refuses storage accounts that miss the tag, leave the allowed regions, allow public networks or TLS below 1.2", async () => {
    const put = (name: string, body: unknown, rg?: string) => simJson(sim, "PUT", accountPath(name, rg), { token: owner, body });
    const untagged = await put("ccpolicy01", { ...compliant, tags: {} });
    expect(untagged.status).toBe(403);
    expect(deniedBy(untagged.body)).toEqual(["871b6d14-10aa-478d-b590-94f262ecfa99"]);
    const region = await put("ccpolicy02", { ...compliant, location: "northeurope" }, "rg-aks-audit");
    expect(deniedBy(region.body)).toEqual(["e56962a6-4747-49cd-b67b-bf8b01975c4c"]);
    const open = await put("ccpolicy03", {
      ...compliant,
      properties: { ...compliant.properties, networkAcls: { defaultAction: "Allow" } },
    });
    expect(deniedBy(open.body)).toEqual(["34c877ad-507e-4c82-993e-3452a6e0ad3c"]);
    // Policy sees the request: leaving networkAcls or minimumTlsVersion out is non-compliant, whatever Storage would default to.
    const bare = await put("ccpolicy04", { ...compliant, properties: {} });
    expect(deniedBy(bare.body)).toEqual(["34c877ad-507e-4c82-993e-3452a6e0ad3c", "fe83a0eb-a853-422d-aac2-1bffd182c5d0"]);
    const tls = await put("ccpolicy05", { ...compliant, properties: { ...compliant.properties, minimumTlsVersion: "TLS1_0" } });
    expect(deniedBy(tls.body)).toEqual(["fe83a0eb-a853-422d-aac2-1bffd182c5d0"]);
    expect(tls.body.error.additionalInfo[0].info.policyAssignmentParameters).toEqual({
      effect: { value: "Deny" },
      minimumTlsVersion: { value: "TLS1_2" },
    });
    // The public-network-access assignment is DoNotEnforce: publicNetworkAccess Enabled passes.
    const ok = await put("ccpolicy06", { ...compliant, properties: { ...compliant.properties, publicNetworkAccess: "Enabled" } });
    expect(ok.status).toBe(202);
  });

  it("evaluates a PATCH on the account as it would be afterwards", async () => {
    await new Promise((r) => setTimeout(r, 200));
    const patch = (body: unknown) => simJson(sim, "PATCH", accountPath("ccpolicy06"), { token: owner, body });
    const opened = await patch({ properties: { minimumTlsVersion: "TLS1_2", networkAcls: { defaultAction: "Allow" } } });
    expect(opened.status).toBe(403);
    expect(deniedBy(opened.body)).toEqual(["34c877ad-507e-4c82-993e-3452a6e0ad3c"]);
    const retagged = await patch({ tags: { costCenter: "cc-9" } });
    expect(retagged.status).toBe(200);
    expect(retagged.body.tags).toEqual({ costCenter: "cc-9" });
    const untagged = await patch({ tags: {} });
    expect(deniedBy(untagged.body)).toEqual(["871b6d14-10aa-478d-b590-94f262ecfa99"]);
  });

  it("honours notScopes, resource-group-scope assignments and DoNotEnforce", async () => {
    const scenario = loadScenario(SCENARIO);
    const dev = scenario.subscriptions[1]?.id ?? "";
    scenario.policyAssignments = [
      {
        name: "rg-tls",
        scope: `/subscriptions/${dev}/resourceGroups/rg-aks-dev-eastus`,
        policyDefinitionId: `${BUILTIN}/fe83a0eb-a853-422d-aac2-1bffd182c5d0`,
        parameters: { effect: { value: "Deny" } },
        notScopes: [],
        enforcementMode: "Default",
      },
      {
        name: "sub-tags-except-weu",
        scope: `/subscriptions/${dev}`,
        policyDefinitionId: `${BUILTIN}/96670d01-0a4d-4649-9c89-2d3abc0a5025`,
        parameters: { tagName: { value: "owner" } },
        notScopes: [`/subscriptions/${dev}/resourceGroups/rg-exempt`],
        enforcementMode: "Default",
      },
    ];
    await sim.reset(scenario);
    sim.state().latency.lroMs.storageAccount = 50;
    expect(
      (
        await simJson(
          sim,
          "GET",
          `/subscriptions/${dev}/providers/Microsoft.Authorization/policyAssignments?api-version=2023-04-01&$filter=atExactScope()`,
          { token: owner },
        )
      ).body.value.map((a: { name: string }) => a.name),
    ).toEqual(["sub-tags-except-weu"]);
    const devRg = (rg: string, body: unknown) =>
      simJson(sim, "PUT", `/subscriptions/${dev}/resourcegroups/${rg}?api-version=2025-04-01`, { token: owner, body });
    expect((await devRg("rg-other", { location: "eastus" })).status).toBe(403);
    expect((await devRg("rg-exempt", { location: "eastus" })).status).toBe(201);
    const acct = (rg: string) =>
      simJson(
        sim,
        "PUT",
        `/subscriptions/${dev}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/tls${rg.replace(/[^a-z]/g, "")}?api-version=2025-08-01`,
        {
          token: owner,
          body: { ...compliant, properties: { minimumTlsVersion: "TLS1_1" } },
        },
      );
    expect((await acct("rg-aks-dev-eastus")).status).toBe(403);
    expect((await acct("rg-exempt")).status).toBe(202);
  });

  it("gives the assignment's non-compliance message as the reason when it has one", async () => {
    const scenario = loadScenario(SCENARIO);
    scenario.policyAssignments = scenario.policyAssignments.map((a) =>
      a.name === "require-costcenter-rg"
        ? { ...a, nonComplianceMessage: "Every resource group needs a costCenter tag (ask FinOps for yours)." }
        : a,
    );
    await sim.reset(scenario);
    const res = await simJson(sim, "PUT", `${PROD}/resourcegroups/rg-untagged?api-version=2025-04-01`, {
      token: owner,
      body: { location: "eastus" },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe(
      "Resource 'rg-untagged' was disallowed by policy. Reasons: 'Every resource group needs a costCenter tag (ask FinOps for yours).'. See error details for policy resource IDs.",
    );
    expect(res.body.error.additionalInfo[0].info.policyAssignmentName).toBe("require-costcenter-rg");
    const assignment = await simJson(
      sim,
      "GET",
      `${PROD}/providers/Microsoft.Authorization/policyAssignments/require-costcenter-rg?api-version=2023-04-01`,
      { token: owner },
    );
    expect(assignment.body.properties.nonComplianceMessages).toEqual([
      { message: "Every resource group needs a costCenter tag (ask FinOps for yours)." },
    ]);
  });

  it("evaluates the other built-ins: public network access, a tag's value, allowed locations for resource groups", async () => {
    const scenario = loadScenario(SCENARIO);
    const assign = (name: string, guid: string, parameters: Record<string, { value: unknown }>) => ({
      name,
      scope: PROD,
      policyDefinitionId: `${BUILTIN}/${guid}`,
      parameters,
      notScopes: [],
      enforcementMode: "Default" as const,
    });
    scenario.policyAssignments = [
      assign("no-public-network", "b2982f36-99f2-4db5-8eff-283140c09693", { effect: { value: "Deny" } }),
      assign("env-on-groups", "8ce3da23-7156-49e4-b145-24f95f9dcb46", { tagName: { value: "env" }, tagValue: { value: "prod" } }),
      assign("env-on-resources", "1e30110a-5ceb-460c-a204-c1c3969c6d62", { tagName: { value: "env" }, tagValue: { value: "prod" } }),
      assign("group-regions", "e765b5de-1225-4ba3-bd56-1ac6695af988", { listOfAllowedLocations: { value: ["eastus"] } }),
    ];
    await sim.reset(scenario);
    sim.state().latency.lroMs.storageAccount = 50;
    const group = (name: string, body: unknown) =>
      simJson(sim, "PUT", `${PROD}/resourcegroups/${name}?api-version=2025-04-01`, { token: owner, body });
    expect(deniedBy((await group("rg-a", { location: "eastus", tags: { env: "dev" } })).body)).toEqual([
      "8ce3da23-7156-49e4-b145-24f95f9dcb46",
    ]);
    expect(deniedBy((await group("rg-b", { location: "westeurope", tags: { env: "prod" } })).body)).toEqual([
      "e765b5de-1225-4ba3-bd56-1ac6695af988",
    ]);
    expect((await group("rg-c", { location: "eastus", tags: { ENV: "PROD" } })).status).toBe(201);
    const account = (name: string, tags: Record<string, string>, publicNetworkAccess?: string) =>
      simJson(sim, "PUT", accountPath(name), {
        token: owner,
        body: { ...compliant, tags, properties: { ...compliant.properties, ...(publicNetworkAccess ? { publicNetworkAccess } : {}) } },
      });
    const open = await account("pnaopen", { env: "prod" }, "Enabled");
    expect(deniedBy(open.body)).toEqual(["b2982f36-99f2-4db5-8eff-283140c09693"]);
    expect(open.body.error.additionalInfo[0].info.evaluationDetails.evaluatedExpressions[1]).toMatchObject({
      result: "True",
      expression: "Microsoft.Storage/storageAccounts/publicNetworkAccess",
      path: "properties.publicNetworkAccess",
      expressionValue: "Enabled",
      targetValue: "Disabled",
      operator: "NotEquals",
    });
    expect(deniedBy((await account("pnawrongenv", { env: "dev" }, "Disabled")).body)).toEqual(["1e30110a-5ceb-460c-a204-c1c3969c6d62"]);
    expect((await account("pnaclosed", { env: "prod" }, "Disabled")).status).toBe(202);
  });
});
