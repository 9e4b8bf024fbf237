import type { TokenCredential } from "@azure/core-auth";
import { describe, expect, it } from "vitest";
import { getPolicyDefinition, getPolicySetDefinition } from "./list-policy-assignments";

// Never asked: an id that isn't a definition path is refused before any request.
const credential: TokenCredential = { getToken: () => Promise.reject(new Error("no request expected")) };
const SUB = "11111111-1111-4111-8111-111111111111";

describe("definition ids appended to the ARM endpoint", () => {
  it.each([
    "/providers/Microsoft.Authorization/policyDefinitions/96670d01-0a4d-4649-9c89-2d3abc0a5025/../../roleAssignments/x",
    "/subscriptions/../providers/Microsoft.Authorization/policyDefinitions/x",
    "https://attacker.example/providers/Microsoft.Authorization/policyDefinitions/x",
    "/providers/Microsoft.Authorization/policyDefinitions/x?api-version=1&",
    "/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/y",
  ])("refuses %s", async (id) => {
    await expect(getPolicyDefinition(credential, SUB, id)).rejects.toMatchObject({ code: "invalid_request" });
    await expect(getPolicySetDefinition(credential, SUB, id.replace("policyDefinitions", "policySetDefinitions"))).rejects.toMatchObject({
      code: "invalid_request",
    });
  });
});

describe("valid definition ids", () => {
  it.each([
    ["/providers/Microsoft.Authorization/policyDefinitions/96670d01-0a4d-4649-9c89-2d3abc0a5025", "policyDefinitions"],
    [`/subscriptions/${SUB}/providers/Microsoft.Authorization/policyDefinitions/corp.owner-tag`, "policyDefinitions"],
    [
      "/providers/Microsoft.Management/managementGroups/corp/providers/Microsoft.Authorization/policySetDefinitions/tagging",
      "policySetDefinitions",
    ],
  ])("reach the request for %s", async (id, kind) => {
    const read = kind === "policyDefinitions" ? getPolicyDefinition(credential, SUB, id) : getPolicySetDefinition(credential, SUB, id);
    // The request was attempted (the credential refused it), not refused as an invalid id.
    await expect(read).rejects.not.toMatchObject({ code: "invalid_request" });
  });
});
