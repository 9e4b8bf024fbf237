// custom-role step against the simulator: the three roles (read-only AKS, cluster metadata, Log Analytics query), create, idempotent re-apply, scope
// union, permissions, faults.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { customRoleId } from "../../../lib/azure/names";
import type { RunConfig } from "../../../lib/steps/config";
import {
  AKS_CLUSTER_METADATA_ROLE,
  AKS_READ_ONLY_ROLE,
  customRoleStep,
  LOG_ANALYTICS_QUERY_ROLE,
  type CustomRoleOutput,
} from "../../../lib/steps/custom-role";
import type { RunningSimulator } from "../../../simulator/src/index";
import {
  armOfType,
  armRaw,
  azureError,
  clearRequests,
  OWNER,
  READER,
  setFaults,
  simRequests,
  startSimForPortal,
  SUB_DEV,
  SUB_PROD,
  TENANT,
} from "../azure/support";
import { defaultRunConfig, testStepContext } from "./context";
import { applyWithRetries, withRetries } from "./retry";

let sim: RunningSimulator;
const ROLE_ID = customRoleId(TENANT, "aks-read-only");
const METADATA_ROLE_ID = customRoleId(TENANT, "aks-cluster-metadata");
const LOG_ANALYTICS_ROLE_ID = customRoleId(TENANT, "log-analytics-query");
const PROD = `/subscriptions/${SUB_PROD}`;
const DEV = `/subscriptions/${SUB_DEV}`;
const WRITES = new Set(["PUT", "POST", "PATCH", "DELETE"]);

beforeAll(async () => {
  sim = await startSimForPortal();
});
afterAll(async () => sim.close());

function prodOnly(): RunConfig {
  const c = defaultRunConfig();
  return {
    ...c,
    subscriptions: c.subscriptions.filter((s) => s.id === SUB_PROD),
    clusters: c.clusters.filter((k) => k.subscriptionId === SUB_PROD),
  };
}

async function customRoles(id = ROLE_ID) {
  return (await armOfType(sim, "Microsoft.Authorization/roleDefinitions")).filter((r: { name: string }) => r.name === id) as {
    properties: { roleName: string; assignableScopes: string[]; permissions: unknown[] };
  }[];
}

describe("custom-role step", () => {
  let out: CustomRoleOutput;

  it("plans the role with its scopes on a fresh tenant", async () => {
    const { ctx } = testStepContext(sim, { config: prodOnly() });
    const plan = customRoleStep.plan(ctx, await customRoleStep.read(ctx));
    expect(plan).toHaveLength(3);
    expect(plan[0]).toMatchObject({
      action: "create",
      resourceType: "Custom role",
      resource: AKS_READ_ONLY_ROLE.roleName,
      key: `custom-role.put:${ROLE_ID}`,
    });
    expect(plan[0]?.details).toContain(`scopes: +${PROD}`);
    expect(plan[1]).toMatchObject({
      action: "create",
      resource: AKS_CLUSTER_METADATA_ROLE.roleName,
      key: `custom-role.put:${METADATA_ROLE_ID}`,
    });
    expect(plan[2]).toMatchObject({
      action: "create",
      resource: LOG_ANALYTICS_QUERY_ROLE.roleName,
      key: `custom-role.put:${LOG_ANALYTICS_ROLE_ID}`,
    });
  });

  it("creates each role in one write with its deterministic id", async () => {
    const { ctx, writes } = testStepContext(sim, { config: prodOnly() });
    out = await customRoleStep.apply(ctx, await customRoleStep.read(ctx));
    expect(out).toEqual({
      roleId: ROLE_ID,
      roleDefinitionId: `${PROD}/providers/Microsoft.Authorization/roleDefinitions/${ROLE_ID}`,
      assignableScopes: [PROD],
      metadataRoleId: METADATA_ROLE_ID,
      logAnalyticsRoleId: LOG_ANALYTICS_ROLE_ID,
    });
    expect(writes.map((w) => [w.kind, w.status])).toEqual([
      ["create", "succeeded"],
      ["create", "succeeded"],
      ["create", "succeeded"],
    ]);
    // Log Analytics queries only: no "*/read", so no storage container listing and no other resource's settings.
    expect((await customRoles(LOG_ANALYTICS_ROLE_ID))[0]?.properties.permissions).toEqual([
      { actions: LOG_ANALYTICS_QUERY_ROLE.permissions[0]?.actions, notActions: [], dataActions: [], notDataActions: [] },
    ]);
    // Metadata only: no credential action, no data actions.
    expect((await customRoles(METADATA_ROLE_ID))[0]?.properties.permissions).toEqual([
      { actions: ["Microsoft.ContainerService/managedClusters/read"], notActions: [], dataActions: [], notDataActions: [] },
    ]);
    const roles = await customRoles();
    expect(roles).toHaveLength(1);
    expect(roles[0]?.properties.permissions).toEqual([
      {
        actions: AKS_READ_ONLY_ROLE.permissions[0]?.actions,
        notActions: [],
        dataActions: ["Microsoft.ContainerService/managedClusters/*/read"],
        notDataActions: ["Microsoft.ContainerService/managedClusters/secrets/read"],
      },
    ]);
    expect(await customRoleStep.verify(ctx, out)).toMatchObject({ ok: true });
  });

  it("extends the scopes when a subscription is added, and plans exactly that addition", async () => {
    const { ctx, writes } = testStepContext(sim);
    const live = await customRoleStep.read(ctx);
    expect(customRoleStep.plan(ctx, live)).toEqual([
      expect.objectContaining({ action: "update", details: [`scopes: +${DEV}`] }),
      expect.objectContaining({ action: "update", details: [`scopes: +${DEV}`] }),
      expect.objectContaining({ action: "update", details: [`scopes: +${DEV}`] }),
    ]);
    out = await customRoleStep.apply(ctx, live);
    expect(out.assignableScopes).toEqual([DEV, PROD].sort());
    expect(writes).toHaveLength(3);
    expect((await customRoles())[0]?.properties.assignableScopes.map((s) => s.toLowerCase()).sort()).toEqual([DEV, PROD].sort());
  });

  it("never shrinks: a run that selects fewer subscriptions keeps the others, with zero writes", async () => {
    const { ctx, writes } = testStepContext(sim, { config: prodOnly() });
    const live = await customRoleStep.read(ctx);
    expect(customRoleStep.plan(ctx, live).map((c) => c.action)).toEqual(["no-change", "no-change", "no-change"]);
    await clearRequests(sim);
    const again = await customRoleStep.apply(ctx, live);
    expect(again.assignableScopes).toEqual([DEV, PROD].sort());
    expect(writes).toEqual([]);
    expect((await simRequests(sim)).filter((r) => WRITES.has(r.method))).toEqual([]);
  });

  it("re-applying the full selection writes nothing and verifies", async () => {
    const { ctx, writes } = testStepContext(sim);
    await clearRequests(sim);
    const again = await customRoleStep.apply(ctx, await customRoleStep.read(ctx));
    expect(again).toEqual(out);
    expect(writes).toEqual([]);
    expect((await simRequests(sim)).filter((r) => WRITES.has(r.method))).toEqual([]);
    expect(await customRoleStep.verify(ctx, again)).toMatchObject({ ok: true, checks: expect.any(Array) });
  });

  it("tells a Reader that Owner or User Access Administrator is needed on every subscription", async () => {
    const r = await armRaw(
      sim,
      OWNER,
      "DELETE",
      `${PROD}/providers/Microsoft.Authorization/roleDefinitions/${ROLE_ID}?api-version=2022-04-01`,
    );
    expect(r.status).toBe(200);
    const { ctx } = testStepContext(sim, { upn: READER });
    const live = await customRoleStep.read(ctx);
    expect(customRoleStep.plan(ctx, live).map((c) => c.action)).toEqual(["create", "no-change", "no-change"]);
    const error = await azureError(customRoleStep.apply(ctx, live));
    expect(error.code).toBe("forbidden");
    expect(error.message).toContain("Owner or User Access Administrator");
  });

  it("under random faults ends with exactly one of each role with both scopes", async () => {
    const { ctx } = testStepContext(sim);
    await setFaults(sim, { rate: 0.2, kinds: ["429", "500", "503", "PrincipalNotFound", "NoBackingApplicationObject"], seed: 5 });
    let result: CustomRoleOutput;
    try {
      result = (await applyWithRetries(customRoleStep, ctx)).result;
      await applyWithRetries(customRoleStep, ctx);
    } finally {
      await setFaults(sim, { rate: 0 });
    }
    expect((await withRetries(() => customRoleStep.verify(ctx, result))).result).toMatchObject({ ok: true });
    for (const id of [ROLE_ID, METADATA_ROLE_ID, LOG_ANALYTICS_ROLE_ID]) {
      const roles = await customRoles(id);
      expect(roles).toHaveLength(1);
      expect(roles[0]?.properties.assignableScopes.map((s) => s.toLowerCase()).sort()).toEqual([DEV, PROD].sort());
    }
  });
});
