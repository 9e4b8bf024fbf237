import type { TokenCredential } from "@azure/core-auth";
import { describe, expect, it } from "vitest";
import type { CustomRoleDefinition } from "@/lib/azure/get-custom-role-definition";
import type { RunConfig } from "./config";
import {
  AKS_CLUSTER_METADATA_ROLE,
  AKS_CLUSTER_METADATA_ROLE_KEY,
  AKS_READ_ONLY_ROLE,
  AKS_READ_ONLY_ROLE_KEY,
  customRoleStep,
  desiredScopes,
  LOG_ANALYTICS_QUERY_ROLE,
  LOG_ANALYTICS_QUERY_ROLE_KEY,
} from "./custom-role";
import type { StepContext } from "./types";

const SUB_A = "11111111-1111-4111-8111-111111111111";
const SUB_B = "22222222-2222-4222-8222-222222222222";
const SUB_C = "33333333-3333-4333-8333-333333333333";
const scope = (s: string) => `/subscriptions/${s}`;
const ROLE_ID = "44444444-4444-4444-8444-444444444444";
const META_ID = "66666666-6666-4666-8666-666666666666";
const LA_ID = "77777777-7777-4777-8777-777777777777";
/** Live state: the AKS role as given, the metadata and Log Analytics roles absent unless given. */
const live = (
  existing: CustomRoleDefinition | null,
  metadata: CustomRoleDefinition | null = null,
  logAnalytics: CustomRoleDefinition | null = null,
) => ({
  roles: [
    { key: AKS_READ_ONLY_ROLE_KEY, roleId: ROLE_ID, existing },
    { key: AKS_CLUSTER_METADATA_ROLE_KEY, roleId: META_ID, existing: metadata },
    { key: LOG_ANALYTICS_QUERY_ROLE_KEY, roleId: LA_ID, existing: logAnalytics },
  ],
});

function ctxFor(subscriptions: string[]): StepContext {
  const config = {
    tenantId: "55555555-5555-4555-8555-555555555555",
    subscriptions: subscriptions.map((id) => ({ id, displayName: id })),
    clusters: [],
    storage: [],
    options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180 },
    vendor: { name: "Vendor", appUniqueName: "vendor-app", appDisplayName: "Vendor app", egressIps: [] },
  } satisfies RunConfig;
  return {
    runId: "run-1",
    tenantId: config.tenantId,
    config,
    arm: {} as TokenCredential,
    graph: {} as TokenCredential,
    outputs: {},
  } as unknown as StepContext;
}

function role(scopes: string[], overrides: Partial<CustomRoleDefinition> = {}): CustomRoleDefinition {
  return {
    id: `${scopes[0]}/providers/Microsoft.Authorization/roleDefinitions/${ROLE_ID}`,
    name: ROLE_ID,
    roleName: AKS_READ_ONLY_ROLE.roleName,
    description: AKS_READ_ONLY_ROLE.description,
    roleType: "CustomRole",
    permissions: AKS_READ_ONLY_ROLE.permissions.map((p) => ({ ...p })),
    assignableScopes: scopes,
    ...overrides,
  };
}

describe("custom-role plan", () => {
  it("creates the role on a fresh tenant, listing every scope", () => {
    const plan = customRoleStep.plan(ctxFor([SUB_B, SUB_A]), live(null));
    expect(plan).toEqual([
      expect.objectContaining({ action: "create", key: `custom-role.put:${ROLE_ID}` }),
      expect.objectContaining({ action: "create", key: `custom-role.put:${META_ID}`, resource: AKS_CLUSTER_METADATA_ROLE.roleName }),
      expect.objectContaining({ action: "create", key: `custom-role.put:${LA_ID}`, resource: LOG_ANALYTICS_QUERY_ROLE.roleName }),
    ]);
    // The metadata role reads the cluster resource only: no credential action, no dataActions.
    expect(plan[1]?.details).toEqual([
      `scopes: +${scope(SUB_A)}`,
      `scopes: +${scope(SUB_B)}`,
      "actions: Microsoft.ContainerService/managedClusters/read",
    ]);
    expect(plan[0]?.details?.slice(0, 2)).toEqual([`scopes: +${scope(SUB_A)}`, `scopes: +${scope(SUB_B)}`]);
    // The Log Analytics role queries workspaces only: no "*/read" (it would list every storage account's containers).
    const actions = LOG_ANALYTICS_QUERY_ROLE.permissions.flatMap((p) => p.actions);
    expect(actions.every((a) => a.startsWith("Microsoft.OperationalInsights/workspaces/"))).toBe(true);
    expect(actions).toContain("Microsoft.OperationalInsights/workspaces/query/read");
    expect(plan[2]?.details).toEqual([`scopes: +${scope(SUB_A)}`, `scopes: +${scope(SUB_B)}`, `actions: ${actions.join(", ")}`]);
  });

  it("changes nothing when the role already has these permissions and scopes (case-insensitively)", () => {
    const plan = customRoleStep.plan(ctxFor([SUB_A, SUB_B]), live(role([scope(SUB_B).toUpperCase(), scope(SUB_A)])));
    expect(plan.map((c) => c.action)[0]).toEqual("no-change");
  });

  it("adds a newly selected subscription and keeps the ones selected before (union)", () => {
    const ctx = ctxFor([SUB_A, SUB_C]);
    const existing = role([scope(SUB_A), scope(SUB_B)]);
    expect(customRoleStep.plan(ctx, live(existing))[0]).toEqual(
      expect.objectContaining({ action: "update", details: [`scopes: +${scope(SUB_C)}`] }),
    );
    expect(desiredScopes(ctx.config, existing)).toEqual([scope(SUB_A), scope(SUB_B), scope(SUB_C)]);
  });

  it("never plans a shrink when fewer subscriptions are selected", () => {
    const plan = customRoleStep.plan(ctxFor([SUB_A]), live(role([scope(SUB_A), scope(SUB_B)])));
    expect(plan.map((c) => c.action)[0]).toEqual("no-change");
  });

  it("resets drifted permissions", () => {
    const drifted = role([scope(SUB_A)], { permissions: [{ actions: ["*"], notActions: [], dataActions: [], notDataActions: [] }] });
    const plan = customRoleStep.plan(ctxFor([SUB_A]), live(drifted));
    expect(plan[0]).toMatchObject({
      action: "update",
      details: [`permissions: reset to the portal's "${AKS_READ_ONLY_ROLE.roleName}" permissions`],
    });
  });

  it("plans the metadata role like the AKS role: no change when in place, scopes only grow", () => {
    const metadata = role([scope(SUB_A), scope(SUB_B)], {
      name: META_ID,
      roleName: AKS_CLUSTER_METADATA_ROLE.roleName,
      description: AKS_CLUSTER_METADATA_ROLE.description,
      permissions: AKS_CLUSTER_METADATA_ROLE.permissions.map((p) => ({ ...p })),
    });
    expect(customRoleStep.plan(ctxFor([SUB_A]), live(role([scope(SUB_A)]), metadata)).map((c) => c.action)).toEqual([
      "no-change",
      "no-change",
      "create",
    ]);
    expect(customRoleStep.plan(ctxFor([SUB_A, SUB_C]), live(role([scope(SUB_A), scope(SUB_C)]), metadata))[1]).toMatchObject({
      action: "update",
      details: [`scopes: +${scope(SUB_C)}`],
    });
  });
});
