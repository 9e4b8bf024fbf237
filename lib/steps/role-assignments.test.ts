import type { TokenCredential } from "@azure/core-auth";
import { describe, expect, it } from "vitest";
import type { RoleAssignmentInfo } from "@/lib/azure/list-principal-assignments";
import { roleAssignmentName } from "@/lib/azure/names";
import { BUILTIN_ROLE_IDS } from "@/lib/azure/role-ids";
import { blobReadCondition } from "./abac";
import type { RunConfig } from "./config";
import {
  clusterAccessFromConfig,
  clusterNotes,
  decide,
  desiredAssignments,
  ENABLE_ENTRA_DOCS,
  roleAssignmentsStep,
  staleAssignments,
  type ClusterAccess,
  type RoleAssignmentsLive,
} from "./role-assignments";
import { storageAccountIdOf } from "./storage";
import type { StepContext } from "./types";

const SUB_A = "11111111-1111-4111-8111-111111111111";
const SUB_B = "22222222-2222-4222-8222-222222222222";
const SP = "33333333-3333-4333-8333-333333333333";
const ROLE = "44444444-4444-4444-8444-444444444444";
const META = "77777777-7777-4777-8777-777777777777";
const LA = "88888888-8888-4888-8888-888888888888";
const ROLES = { aks: ROLE, metadata: META, logAnalytics: LA };
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
const cluster = (subscriptionId: string, name: string, location: string, entraIntegration?: boolean) => ({
  id: `/subscriptions/${subscriptionId}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/${name}`,
  name,
  subscriptionId,
  resourceGroup: "rg-aks",
  location,
  ...(entraIntegration === undefined ? {} : { entraIntegration }),
});

const config = {
  tenantId: "55555555-5555-4555-8555-555555555555",
  subscriptions: [
    { id: SUB_A, displayName: "A" },
    { id: SUB_B, displayName: "B" },
  ],
  clusters: [
    cluster(SUB_A, "aks-entra", "eastus", true),
    cluster(SUB_A, "aks-k8s-rbac", "westeurope", true),
    cluster(SUB_B, "aks-legacy", "northeurope", false),
  ],
  storage: [
    storage(SUB_A, "eastus", "auditeus01"),
    storage(SUB_A, "westeurope", "auditweu01"),
    storage(SUB_B, "northeurope", "auditneu01"),
  ],
  options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180 },
  vendor: { name: "Vendor", appUniqueName: "vendor-app", appDisplayName: "Vendor app", egressIps: [] },
} satisfies RunConfig;
const [C1, C2, C3] = config.clusters.map((c) => c.id) as [string, string, string];
const [S1, S2, S3] = config.storage.map((x) => storageAccountIdOf(x)) as [string, string, string];

const ctx = {
  runId: "run-1",
  tenantId: config.tenantId,
  actorUpn: "a@b",
  config,
  arm: {} as TokenCredential,
  graph: {} as TokenCredential,
  outputs: {},
} as unknown as StepContext;

function assignment(
  scope: string,
  roleGuid: string,
  condition: string | null,
  name = roleAssignmentName(scope, SP, roleGuid),
): RoleAssignmentInfo {
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

/** Live reads: the first two clusters with Entra integration (the second without Azure RBAC), the third without. */
const access: ClusterAccess[] = clusterAccessFromConfig(config).map((a, i) => ({
  ...a,
  azureRbac: i === 0 ? true : i === 1 ? false : null,
  source: "live",
}));
const desired = desiredAssignments(config, ROLES, undefined, access);
const allPresent = (): Record<string, RoleAssignmentInfo[]> => {
  const existing: Record<string, RoleAssignmentInfo[]> = {};
  for (const d of desired) (existing[d.scope] ??= []).push(assignment(d.scope, d.roleGuid, d.condition ?? null));
  return existing;
};
const SBDR = 5;

describe("desiredAssignments", () => {
  it("gives each subscription the Log Analytics query role, each Entra cluster the AKS role, the others metadata only, and each audit account its own conditioned blob reader", () => {
    expect(desired.map((d) => [d.scope, d.roleGuid])).toEqual([
      [A, LA],
      [B, LA],
      [C1, ROLE],
      [C2, ROLE],
      [C3, META],
      [S1, BUILTIN_ROLE_IDS.storageBlobDataReader],
      [S2, BUILTIN_ROLE_IDS.storageBlobDataReader],
      [S3, BUILTIN_ROLE_IDS.storageBlobDataReader],
    ]);
    expect(desired.slice(SBDR).map((d) => d.condition)).toEqual([
      blobReadCondition(["auditeus01"]),
      blobReadCondition(["auditweu01"]),
      blobReadCondition(["auditneu01"]),
    ]);
    // Nothing the vendor holds reaches a cluster or account at subscription scope: there it gets Log Analytics queries only.
    expect(desired.filter((d) => d.scope === A || d.scope === B).every((d) => d.roleGuid === LA)).toBe(true);
    expect(desired.some((d) => d.roleGuid === BUILTIN_ROLE_IDS.logAnalyticsReader)).toBe(false);
  });

  it("treats a cluster recorded without Entra integration (or not recorded, in older runs) as without it", () => {
    const older = { ...config, clusters: config.clusters.map(({ entraIntegration: _, ...c }) => c) };
    expect(
      desiredAssignments(older, ROLES)
        .filter((d) => d.cluster)
        .map((d) => d.roleGuid),
    ).toEqual([META, META, META]);
  });

  it("follows the live read over the recorded value (a cluster that gained Entra integration gets the AKS role)", () => {
    const gained = access.map((a) => ({ ...a, entraIntegration: true }));
    expect(desiredAssignments(config, ROLES, undefined, gained).find((d) => d.scope === C3)?.roleGuid).toBe(ROLE);
  });

  it("prefers the storage step's outputs over the configuration", () => {
    const id = `/subscriptions/${SUB_B}/resourceGroups/rg-x/providers/Microsoft.Storage/storageAccounts/otheracct01`;
    const d = desiredAssignments(
      config,
      ROLES,
      { accounts: [{ name: "otheracct01", subscriptionId: SUB_B, resourceGroup: "rg-x", id }] },
      access,
    );
    expect(d.filter((x) => x.condition).map((x) => [x.scope, x.condition])).toEqual([[id, blobReadCondition(["otheracct01"])]]);
  });
});

describe("role-assignments plan", () => {
  it("plans everything as create when the service principal doesn't exist yet", () => {
    const live: RoleAssignmentsLive = { principalId: null, roleId: ROLE, desired, existing: {} };
    expect(roleAssignmentsStep.plan(ctx, live).map((c) => c.action)).toEqual(Array(8).fill("create"));
  });

  it("plans everything as create for a principal with no assignments", () => {
    const live: RoleAssignmentsLive = { principalId: SP, roleId: ROLE, desired, existing: {} };
    const plan = roleAssignmentsStep.plan(ctx, live);
    expect(plan.map((c) => c.action)).toEqual(Array(8).fill("create"));
    expect(plan[SBDR]?.details).toEqual([`condition: ${blobReadCondition(["auditeus01"])}`]);
    expect(new Set(plan.map((c) => c.key)).size).toBe(8);
  });

  it("tells the admin what the vendor sees on a cluster without Entra integration, and how to enable it", () => {
    const plan = roleAssignmentsStep.plan(ctx, { principalId: SP, roleId: ROLE, desired, existing: {} });
    const line = plan.find((c) => c.key === `role-assignments.${META}:${C3}`);
    expect(line?.why).toContain("aks-legacy has no Microsoft Entra integration");
    expect(line?.details).toEqual([
      expect.stringContaining("The vendor sees: the cluster's metadata"),
      expect.stringContaining("The vendor doesn't get: a kubeconfig"),
      expect.stringContaining(`az aks update --resource-group rg-aks --name aks-legacy --enable-aad`),
    ]);
    expect(line?.details?.[2]).toContain(ENABLE_ENTRA_DOCS);
    // Entra without Azure RBAC: the role's dataActions don't apply inside the cluster.
    expect(plan.find((c) => c.key === `role-assignments.${ROLE}:${C2}`)?.details).toEqual([
      expect.stringContaining("dataActions have no effect"),
    ]);
    expect(plan.find((c) => c.key === `role-assignments.${ROLE}:${C1}`)?.details).toBeUndefined();
  });

  it("says when a cluster's Entra integration comes from the run's record because it could not be read", () => {
    const notes = clusterNotes({ ...desired[4]!, cluster: { ...access[2]!, source: "config" } });
    expect(notes?.why).toContain("could not be read now");
  });

  it("plans no change when every assignment exists with the exact condition", () => {
    const live: RoleAssignmentsLive = { principalId: SP, roleId: ROLE, desired, existing: allPresent() };
    expect(roleAssignmentsStep.plan(ctx, live).map((c) => c.action)).toEqual(Array(8).fill("no-change"));
  });

  it("plans an update when our assignment carries another condition", () => {
    const existing = allPresent();
    const old = blobReadCondition(["auditeus01", "auditweu01"]);
    existing[S1] = existing[S1]!.map((a) => ({ ...a, condition: old }));
    const plan = roleAssignmentsStep.plan(ctx, { principalId: SP, roleId: ROLE, desired, existing });
    expect(plan.map((c) => c.action)).toEqual([
      "no-change",
      "no-change",
      "no-change",
      "no-change",
      "no-change",
      "update",
      "no-change",
      "no-change",
    ]);
    expect(plan[SBDR]?.details).toEqual([`condition: ${old} → ${blobReadCondition(["auditeus01"])}`]);
  });

  it("treats an unconditioned blob reader as a condition mismatch (it would allow every account)", () => {
    const d = desired[SBDR]!;
    expect(decide(d, SP, [assignment(S1, d.roleGuid, null)]).kind).toBe("update");
  });

  it("adopts a same-condition assignment under another name and reports a different-condition one", () => {
    const d = desired[SBDR]!;
    const other = "99999999-9999-4999-8999-999999999999";
    expect(decide(d, SP, [assignment(S1, d.roleGuid, d.condition ?? null, other)]).kind).toBe("adopt");
    expect(decide(d, SP, [assignment(S1, d.roleGuid, "something else", other)]).kind).toBe("conflict");
    const plan = roleAssignmentsStep.plan(ctx, {
      principalId: SP,
      roleId: ROLE,
      desired: [d],
      existing: { [S1]: [assignment(S1, d.roleGuid, "x", other)] },
    });
    expect(plan[0]).toMatchObject({ action: "update", why: expect.stringContaining("another name") });
  });

  it("ignores assignments of other principals and roles at the scope", () => {
    const d = desired[0]!;
    const foreign = { ...assignment(A, d.roleGuid, null), principalId: "66666666-6666-4666-8666-666666666666" };
    expect(decide(d, SP, [foreign, assignment(A, BUILTIN_ROLE_IDS.reader, null)])).toEqual({
      kind: "create",
      name: roleAssignmentName(A, SP, d.roleGuid),
    });
  });
});

describe("narrowing", () => {
  // What an earlier version made: the AKS role, one conditioned blob reader and Log Analytics Reader per subscription, under deterministic names.
  const earlier = (): Record<string, RoleAssignmentInfo[]> => {
    const existing = allPresent();
    const LAR = BUILTIN_ROLE_IDS.logAnalyticsReader;
    existing[A]!.push(
      assignment(A, ROLE, null),
      assignment(A, BUILTIN_ROLE_IDS.storageBlobDataReader, blobReadCondition(["auditeus01", "auditweu01"])),
      assignment(A, LAR, null),
    );
    existing[B]!.push(
      assignment(B, ROLE, null),
      assignment(B, BUILTIN_ROLE_IDS.storageBlobDataReader, blobReadCondition(["auditneu01"])),
      assignment(B, LAR, null),
    );
    return existing;
  };

  it("plans the removal of the portal's subscription-wide AKS role, blob reader and Log Analytics Reader, after the narrow ones", () => {
    const existing = earlier();
    const stale = staleAssignments(config, ROLES, SP, desired, existing);
    expect(stale.map((x) => [x.scope, x.roleGuid, x.name])).toEqual([
      [A, ROLE, roleAssignmentName(A, SP, ROLE)],
      [A, BUILTIN_ROLE_IDS.storageBlobDataReader, roleAssignmentName(A, SP, BUILTIN_ROLE_IDS.storageBlobDataReader)],
      [A, BUILTIN_ROLE_IDS.logAnalyticsReader, roleAssignmentName(A, SP, BUILTIN_ROLE_IDS.logAnalyticsReader)],
      [B, ROLE, roleAssignmentName(B, SP, ROLE)],
      [B, BUILTIN_ROLE_IDS.storageBlobDataReader, roleAssignmentName(B, SP, BUILTIN_ROLE_IDS.storageBlobDataReader)],
      [B, BUILTIN_ROLE_IDS.logAnalyticsReader, roleAssignmentName(B, SP, BUILTIN_ROLE_IDS.logAnalyticsReader)],
    ]);
    const plan = roleAssignmentsStep.plan(ctx, { principalId: SP, roleId: ROLE, desired, existing, stale });
    expect(plan.map((c) => c.action)).toEqual([...Array(8).fill("no-change"), ...Array(6).fill("remove")]);
    expect(plan[8]).toMatchObject({
      key: `role-assignments.${ROLE}:${A}`,
      resource: `AKS Audit Log Reader (read-only) at ${A}`,
      why: expect.stringContaining("Narrowed"),
    });
    expect(plan[10]).toMatchObject({
      resource: `Log Analytics Reader at ${A}`,
      why: expect.stringContaining("lists every storage account's containers"),
    });
  });

  it("never removes an assignment under another name (the customer's own)", () => {
    const existing = allPresent();
    existing[A]!.push(
      assignment(A, ROLE, null, "99999999-9999-4999-8999-999999999999"),
      assignment(A, BUILTIN_ROLE_IDS.logAnalyticsReader, null, "99999999-9999-4999-8999-999999999998"),
    );
    expect(staleAssignments(config, ROLES, SP, desired, existing)).toEqual([]);
  });

  it("replaces the metadata role on a cluster that gained Entra integration", () => {
    const gained = desiredAssignments(
      config,
      ROLES,
      undefined,
      access.map((a) => ({ ...a, entraIntegration: true })),
    );
    const existing = allPresent();
    const stale = staleAssignments(config, ROLES, SP, gained, existing);
    expect(stale.map((x) => [x.scope, x.roleGuid])).toEqual([[C3, META]]);
  });
});
