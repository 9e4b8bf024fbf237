import type { TokenCredential } from "@azure/core-auth";
import { describe, expect, it } from "vitest";
import type { RoleAssignmentInfo } from "@/lib/azure/list-role-assignments-at-scope";
import { roleAssignmentName } from "@/lib/azure/names";
import { BUILTIN_ROLE_IDS } from "@/lib/azure/role-ids";
import { blobReadCondition } from "./abac";
import type { RunConfig } from "./config";
import { decide, desiredAssignments, roleAssignmentsStep, type RoleAssignmentsLive } from "./role-assignments";
import type { StepContext } from "./types";

const SUB_A = "11111111-1111-4111-8111-111111111111";
const SUB_B = "22222222-2222-4222-8222-222222222222";
const SP = "33333333-3333-4333-8333-333333333333";
const ROLE = "44444444-4444-4444-8444-444444444444";
const A = `/subscriptions/${SUB_A}`;
const B = `/subscriptions/${SUB_B}`;

const storage = (subscriptionId: string, region: string, accountName: string) => ({
  region,
  subscriptionId,
  resourceGroup: "rg-audit",
  createResourceGroup: true,
  accountName,
  adopt: false,
});

const config = {
  tenantId: "55555555-5555-4555-8555-555555555555",
  subscriptions: [
    { id: SUB_A, displayName: "A" },
    { id: SUB_B, displayName: "B" },
  ],
  clusters: [],
  storage: [storage(SUB_A, "eastus", "auditeus01"), storage(SUB_A, "westeurope", "auditweu01"), storage(SUB_B, "northeurope", "auditneu01")],
  options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180 },
  vendor: { name: "Vendor", appUniqueName: "vendor-app", appDisplayName: "Vendor app", egressIps: [] },
} satisfies RunConfig;

const ctx = { runId: "run-1", tenantId: config.tenantId, actorUpn: "a@b", config, arm: {} as TokenCredential, graph: {} as TokenCredential, outputs: {} } as unknown as StepContext;

function assignment(scope: string, roleGuid: string, condition: string | null, name = roleAssignmentName(scope, SP, roleGuid)): RoleAssignmentInfo {
  return {
    id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    scope,
    principalId: SP,
    principalType: "ServicePrincipal",
    roleDefinitionId: `${scope}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
    roleDefinitionGuid: roleGuid,
    condition,
    conditionVersion: condition ? "2.0" : null,
  };
}

const desired = desiredAssignments(config, ROLE);
const allPresent = (): Record<string, RoleAssignmentInfo[]> => {
  const existing: Record<string, RoleAssignmentInfo[]> = {};
  for (const d of desired) (existing[d.scope] ??= []).push(assignment(d.scope, d.roleGuid, d.condition ?? null));
  return existing;
};

describe("desiredAssignments", () => {
  it("gives each subscription Log Analytics Reader and the AKS role, and each storage subscription one conditioned blob reader", () => {
    expect(desired.map((d) => [d.scope, d.roleName])).toEqual([
      [A, "Log Analytics Reader"],
      [A, "AKS Audit Log Reader (read-only)"],
      [B, "Log Analytics Reader"],
      [B, "AKS Audit Log Reader (read-only)"],
      [A, "Storage Blob Data Reader"],
      [B, "Storage Blob Data Reader"],
    ]);
    expect(desired[4]?.condition).toBe(blobReadCondition(["auditeus01", "auditweu01"]));
    expect(desired[5]?.condition).toBe(blobReadCondition(["auditneu01"]));
  });

  it("prefers the storage step's outputs over the configuration", () => {
    const d = desiredAssignments(config, ROLE, { accounts: [{ name: "otheracct01", subscriptionId: SUB_B }] });
    expect(d.filter((x) => x.condition).map((x) => [x.scope, x.condition])).toEqual([[B, blobReadCondition(["otheracct01"])]]);
  });
});

describe("role-assignments plan", () => {
  it("plans everything as create when the service principal doesn't exist yet", () => {
    const live: RoleAssignmentsLive = { principalId: null, roleId: ROLE, desired, existing: {} };
    expect(roleAssignmentsStep.plan(ctx, live).map((c) => c.action)).toEqual(Array(6).fill("create"));
  });

  it("plans everything as create for a principal with no assignments", () => {
    const live: RoleAssignmentsLive = { principalId: SP, roleId: ROLE, desired, existing: {} };
    const plan = roleAssignmentsStep.plan(ctx, live);
    expect(plan.map((c) => c.action)).toEqual(Array(6).fill("create"));
    expect(plan[4]?.details).toEqual([`condition: ${blobReadCondition(["auditeus01", "auditweu01"])}`]);
    expect(new Set(plan.map((c) => c.key)).size).toBe(6);
  });

  it("plans no change when every assignment exists with the exact condition", () => {
    const live: RoleAssignmentsLive = { principalId: SP, roleId: ROLE, desired, existing: allPresent() };
    expect(roleAssignmentsStep.plan(ctx, live).map((c) => c.action)).toEqual(Array(6).fill("no-change"));
  });

  it("plans an update when our assignment carries another condition", () => {
    const existing = allPresent();
    const old = blobReadCondition(["auditeus01"]);
    existing[A] = existing[A]!.map((a) => (a.roleDefinitionGuid === BUILTIN_ROLE_IDS.storageBlobDataReader ? { ...a, condition: old } : a));
    const plan = roleAssignmentsStep.plan(ctx, { principalId: SP, roleId: ROLE, desired, existing });
    expect(plan.map((c) => c.action)).toEqual(["no-change", "no-change", "no-change", "no-change", "update", "no-change"]);
    expect(plan[4]?.details).toEqual([`condition: ${old} → ${blobReadCondition(["auditeus01", "auditweu01"])}`]);
  });

  it("treats an unconditioned blob reader as a condition mismatch (it would allow every account)", () => {
    const d = desired[4]!;
    expect(decide(d, SP, [assignment(A, d.roleGuid, null)]).kind).toBe("update");
  });

  it("adopts a same-condition assignment under another name and reports a different-condition one", () => {
    const d = desired[4]!;
    const other = "99999999-9999-4999-8999-999999999999";
    expect(decide(d, SP, [assignment(A, d.roleGuid, d.condition ?? null, other)]).kind).toBe("adopt");
    expect(decide(d, SP, [assignment(A, d.roleGuid, "something else", other)]).kind).toBe("conflict");
    const plan = roleAssignmentsStep.plan(ctx, { principalId: SP, roleId: ROLE, desired: [d], existing: { [A]: [assignment(A, d.roleGuid, "x", other)] } });
    expect(plan[0]).toMatchObject({ action: "update", why: expect.stringContaining("another name") });
  });

  it("ignores assignments of other principals and roles at the scope", () => {
    const d = desired[0]!;
    const foreign = { ...assignment(A, d.roleGuid, null), principalId: "66666666-6666-4666-8666-666666666666" };
    expect(decide(d, SP, [foreign, assignment(A, BUILTIN_ROLE_IDS.reader, null)])).toEqual({ kind: "create", name: roleAssignmentName(A, SP, d.roleGuid) });
  });
});
