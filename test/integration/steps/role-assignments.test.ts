// role-assignments step against the simulator: narrow scopes (clusters, audit accounts), plan, idempotent apply, exact ABAC
// condition, narrowing of earlier subscription-wide assignments, replication, faults, permissions.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyAzureError } from "../../../lib/azure/errors";
import { customRoleId, roleAssignmentName } from "../../../lib/azure/names";
import { BUILTIN_ROLE_IDS } from "../../../lib/azure/role-ids";
import { blobReadCondition } from "../../../lib/steps/abac";
import { appRegistrationStep, type AppRegistrationOutput } from "../../../lib/steps/app-registration";
import {
  customRoleStep,
  LOG_ANALYTICS_QUERY_ROLE,
  LOG_ANALYTICS_QUERY_ROLE_KEY,
  type CustomRoleOutput,
} from "../../../lib/steps/custom-role";
import { roleAssignmentsStep, type RoleAssignmentsOutput } from "../../../lib/steps/role-assignments";
import { storageAccountIdOf, storageStep, type StorageOutput } from "../../../lib/steps/storage";
import type { RunningSimulator } from "../../../simulator/src/index";
import {
  armOfType,
  armRaw,
  azureError,
  clearRequests,
  OWNER,
  READER,
  setFaults,
  setLatency,
  simRequests,
  startSimForPortal,
  SUB_DEV,
  SUB_PROD,
  TENANT,
} from "../azure/support";
import { defaultRunConfig, testStepContext } from "./context";
import { applyWithRetries, withRetries } from "./retry";

let sim: RunningSimulator;
const PROD = `/subscriptions/${SUB_PROD}`;
const DEV = `/subscriptions/${SUB_DEV}`;
const WRITES = new Set(["PUT", "POST", "PATCH", "DELETE"]);
const ACCOUNTS = defaultRunConfig().storage.map((s) => s.accountName);
const ACCOUNT_IDS = defaultRunConfig().storage.map((s) => storageAccountIdOf(s));
const CLUSTER_IDS = defaultRunConfig().clusters.map((c) => c.id);
const CONDITION = blobReadCondition([ACCOUNTS[0]!]);
/** Index of the first Storage Blob Data Reader in plan and output order (after 2 Log Analytics query roles and 4 clusters). */
const SBDR = 6;
const LA_ROLE = customRoleId(TENANT, LOG_ANALYTICS_QUERY_ROLE_KEY);

beforeAll(async () => {
  sim = await startSimForPortal();
});
afterAll(async () => sim.close());

/** The steps this one depends on (retried like the engine would): the audit accounts are assignment scopes. */
async function prerequisites(): Promise<{ app: AppRegistrationOutput; role: CustomRoleOutput; storage: StorageOutput }> {
  const { ctx } = testStepContext(sim);
  const storage = (await applyWithRetries(storageStep, ctx)).result;
  const app = (await applyWithRetries(appRegistrationStep, ctx)).result;
  const role = (await applyWithRetries(customRoleStep, ctx)).result;
  return { app, role, storage };
}

async function resetScenario(replicationMs: number): Promise<void> {
  await sim.reset();
  await setLatency(sim, { lroMs: { storageAccount: 100 }, replicationMs });
}

interface AssignmentResource {
  name: string;
  properties: { scope: string; principalId: string; roleDefinitionId: string; condition: string | null; conditionVersion: string | null };
}

async function assignmentsOf(principalId: string): Promise<AssignmentResource[]> {
  return ((await armOfType(sim, "Microsoft.Authorization/roleAssignments")) as AssignmentResource[]).filter(
    (a) => a.properties.principalId === principalId,
  );
}

/** The eight assignments the default run needs (every cluster has Entra integration), as [scope, role guid, condition]. */
function expectedTriples(roleId: string): [string, string, string | null][] {
  return [
    [PROD, LA_ROLE, null],
    [DEV, LA_ROLE, null],
    ...CLUSTER_IDS.map((id): [string, string, null] => [id.toLowerCase(), roleId, null]),
    ...ACCOUNT_IDS.map((id, i): [string, string, string] => [
      id.toLowerCase(),
      BUILTIN_ROLE_IDS.storageBlobDataReader,
      blobReadCondition([ACCOUNTS[i]!]),
    ]),
  ];
}

function triples(assignments: AssignmentResource[]): [string, string, string | null][] {
  return assignments
    .map((a): [string, string, string | null] => [
      a.properties.scope.toLowerCase(),
      (a.properties.roleDefinitionId.split("/").pop() ?? "").toLowerCase(),
      a.properties.condition,
    ])
    .sort();
}

describe("role-assignments step", () => {
  let app: AppRegistrationOutput;
  let role: CustomRoleOutput;
  let storage: StorageOutput;
  let out: RoleAssignmentsOutput;
  const ctxFor = (upn = OWNER) => testStepContext(sim, { upn, outputs: { storage, "app-registration": app, "custom-role": role } });

  it("plans every assignment as create before the app registration exists", async () => {
    const { ctx } = testStepContext(sim);
    const live = await roleAssignmentsStep.read(ctx);
    expect(live.principalId).toBeNull();
    const plan = roleAssignmentsStep.plan(ctx, live);
    expect(plan.map((c) => [c.action, c.resource])).toEqual([
      ["create", `${LOG_ANALYTICS_QUERY_ROLE.roleName} at ${PROD}`],
      ["create", `${LOG_ANALYTICS_QUERY_ROLE.roleName} at ${DEV}`],
      ...CLUSTER_IDS.map((id) => ["create", `AKS Audit Log Reader (read-only) at ${id}`]),
      ...ACCOUNT_IDS.map((id) => ["create", `Storage Blob Data Reader at ${id}`]),
    ]);
    expect(plan[SBDR]?.details).toEqual([`condition: ${CONDITION}`]);
  });

  it("applies eight assignments with deterministic names and the exact condition", async () => {
    ({ app, role, storage } = await prerequisites());
    const { ctx, writes, progress } = ctxFor();
    out = await roleAssignmentsStep.apply(ctx, await roleAssignmentsStep.read(ctx));
    expect(writes.map((w) => [w.kind, w.status])).toEqual(Array(8).fill(["create", "succeeded"]));
    expect(progress.map((p) => p.label)).toContain("Role assignments 2 of 8");
    const sp = app.servicePrincipalId;
    expect(out.assignments.map((a) => a.name)).toEqual(
      expectedTriples(role.roleId).map(([scope, guid]) => roleAssignmentName(scope, sp, guid)),
    );
    expect(out.assignments[SBDR]).toEqual({
      scope: ACCOUNT_IDS[0],
      roleName: "Storage Blob Data Reader",
      roleDefinitionId: `${PROD}/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLE_IDS.storageBlobDataReader}`,
      name: roleAssignmentName(ACCOUNT_IDS[0]!, sp, BUILTIN_ROLE_IDS.storageBlobDataReader),
      condition: CONDITION,
    });
    const live = await assignmentsOf(sp);
    expect(triples(live)).toEqual(expectedTriples(role.roleId).sort());
    expect(live.every((a) => a.properties.conditionVersion === (a.properties.condition ? "2.0" : null))).toBe(true);
  });

  it("plans no change, writes nothing when applied again, and verifies", async () => {
    const { ctx, writes } = ctxFor();
    const live = await roleAssignmentsStep.read(ctx);
    expect(roleAssignmentsStep.plan(ctx, live).map((c) => c.action)).toEqual(Array(8).fill("no-change"));
    await clearRequests(sim);
    expect(await roleAssignmentsStep.apply(ctx, live)).toEqual(out);
    expect(writes).toEqual([]);
    expect((await simRequests(sim)).filter((r) => WRITES.has(r.method))).toEqual([]);
    expect(await roleAssignmentsStep.verify(ctx, out)).toMatchObject({ ok: true });
  });

  it("updates an assignment whose condition drifted, under the same name", async () => {
    const blob = out.assignments[SBDR]!;
    const drifted = blobReadCondition(ACCOUNTS);
    const r = await armRaw(
      sim,
      OWNER,
      "PUT",
      `${blob.scope}/providers/Microsoft.Authorization/roleAssignments/${blob.name}?api-version=2022-04-01`,
      {
        properties: {
          roleDefinitionId: blob.roleDefinitionId,
          principalId: app.servicePrincipalId,
          principalType: "ServicePrincipal",
          condition: drifted,
          conditionVersion: "2.0",
        },
      },
    );
    expect(r.status).toBe(200);
    const { ctx, writes } = ctxFor();
    expect(await roleAssignmentsStep.verify(ctx, out)).toMatchObject({ ok: false, reason: expect.stringContaining("different condition") });
    const live = await roleAssignmentsStep.read(ctx);
    const plan = roleAssignmentsStep.plan(ctx, live);
    expect(plan.map((c) => c.action)).toEqual([...Array(SBDR).fill("no-change"), "update", "no-change"]);
    expect(plan[SBDR]?.details).toEqual([`condition: ${drifted} → ${CONDITION}`]);
    expect(await roleAssignmentsStep.apply(ctx, live)).toEqual(out);
    expect(writes.map((w) => w.kind)).toEqual(["update"]);
    expect((await assignmentsOf(app.servicePrincipalId)).find((a) => a.name === blob.name)?.properties.condition).toBe(CONDITION);
    expect(await roleAssignmentsStep.verify(ctx, out)).toMatchObject({ ok: true });
  });

  it("tells a Reader that Owner or User Access Administrator is needed", async () => {
    const { ctx } = testStepContext(sim, {
      upn: READER,
      outputs: { storage, "app-registration": app, "custom-role": role },
      config: { ...defaultRunConfig(), subscriptions: [{ id: SUB_DEV, displayName: "Contoso Development" }] },
    });
    await armRaw(
      sim,
      OWNER,
      "DELETE",
      `${DEV}/providers/Microsoft.Authorization/roleAssignments/${out.assignments[1]!.name}?api-version=2022-04-01`,
    );
    const error = await azureError(roleAssignmentsStep.apply(ctx, await roleAssignmentsStep.read(ctx)));
    expect(error.code).toBe("forbidden");
    expect(error.message).toContain("Owner");
    expect(error.message).toContain("User Access Administrator");
  });

  it("treats RoleAssignmentExists as success once the other-named assignment is confirmed", async () => {
    const la = out.assignments[1]!;
    const otherName = "0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f";
    const r = await armRaw(
      sim,
      OWNER,
      "PUT",
      `${DEV}/providers/Microsoft.Authorization/roleAssignments/${otherName}?api-version=2022-04-01`,
      {
        properties: { roleDefinitionId: la.roleDefinitionId, principalId: app.servicePrincipalId, principalType: "ServicePrincipal" },
      },
    );
    expect(r.status).toBe(201);
    const { ctx, writes } = ctxFor();
    const live = await roleAssignmentsStep.read(ctx);
    expect(roleAssignmentsStep.plan(ctx, live)[1]?.action).toBe("adopt");
    // A stale read (made before someone else's assignment appeared) sends the PUT and meets the 409.
    const result = await roleAssignmentsStep.apply(ctx, { ...live, existing: {} });
    expect(result.assignments[1]?.name).toBe(otherName);
    expect(writes.filter((w) => w.status === "failed")).toEqual([]);
    expect(await roleAssignmentsStep.verify(ctx, result)).toMatchObject({ ok: true });
    expect(await assignmentsOf(app.servicePrincipalId)).toHaveLength(8);
  });

  it("narrows the portal's earlier subscription-wide AKS role, blob reader and Log Analytics Reader: plans their removal, removes them after the narrow ones, keeps the customer's", async () => {
    const sp = app.servicePrincipalId;
    const put = (scope: string, name: string, roleDefinitionId: string, condition?: string) =>
      armRaw(sim, OWNER, "PUT", `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=2022-04-01`, {
        properties: {
          roleDefinitionId,
          principalId: sp,
          principalType: "ServicePrincipal",
          ...(condition ? { condition, conditionVersion: "2.0" } : {}),
        },
      });
    const aksRole = `${PROD}/providers/Microsoft.Authorization/roleDefinitions/${role.roleId}`;
    const sbdr = `${PROD}/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLE_IDS.storageBlobDataReader}`;
    const lar = (scope: string) => `${scope}/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLE_IDS.logAnalyticsReader}`;
    // What an earlier version of the portal made, under its deterministic names, and one the customer made by hand.
    expect((await put(PROD, roleAssignmentName(PROD, sp, role.roleId), aksRole)).status).toBe(201);
    expect(
      (await put(PROD, roleAssignmentName(PROD, sp, BUILTIN_ROLE_IDS.storageBlobDataReader), sbdr, blobReadCondition(ACCOUNTS))).status,
    ).toBe(201);
    expect((await put(PROD, roleAssignmentName(PROD, sp, BUILTIN_ROLE_IDS.logAnalyticsReader), lar(PROD))).status).toBe(201);
    const customers = "0e0e0e0e-0e0e-4e0e-8e0e-0e0e0e0e0e0e";
    expect((await put(DEV, customers, `${DEV}/providers/Microsoft.Authorization/roleDefinitions/${role.roleId}`)).status).toBe(201);
    const customersLar = "0d0d0d0d-0d0d-4d0d-8d0d-0d0d0d0d0d0d";
    expect((await put(DEV, customersLar, lar(DEV))).status).toBe(201);
    const { ctx, writes } = ctxFor();
    const live = await roleAssignmentsStep.read(ctx);
    const plan = roleAssignmentsStep.plan(ctx, live);
    expect(plan.filter((c) => c.action === "remove").map((c) => c.resource)).toEqual([
      `AKS Audit Log Reader (read-only) at ${PROD}`,
      `Storage Blob Data Reader at ${PROD}`,
      `Log Analytics Reader at ${PROD}`,
    ]);
    const result = await roleAssignmentsStep.apply(ctx, live);
    expect(writes.map((w) => [w.kind, w.status])).toEqual(Array(3).fill(["delete", "succeeded"]));
    expect(result.removed).toHaveLength(3);
    expect(await roleAssignmentsStep.verify(ctx, result)).toMatchObject({ ok: true });
    const names = (await assignmentsOf(sp)).map((a) => a.name);
    expect(names).not.toContain(roleAssignmentName(PROD, sp, role.roleId));
    expect(names).not.toContain(roleAssignmentName(PROD, sp, BUILTIN_ROLE_IDS.storageBlobDataReader));
    expect(names).not.toContain(roleAssignmentName(PROD, sp, BUILTIN_ROLE_IDS.logAnalyticsReader));
    expect(names).toEqual(expect.arrayContaining([customers, customersLar]));
    for (const name of [customers, customersLar])
      await armRaw(sim, OWNER, "DELETE", `${DEV}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=2022-04-01`);
  });
});

describe("role-assignments under replication delay", () => {
  it("surfaces the new custom role's RoleDefinitionDoesNotExist as replication and completes on retry", async () => {
    await resetScenario(0);
    const { ctx: setup } = testStepContext(sim);
    const storage = (await applyWithRetries(storageStep, setup)).result;
    const app = (await applyWithRetries(appRegistrationStep, setup)).result;
    // The window opens with the custom roles only, and is long enough that a busy machine still reaches the first
    // assignment inside it (the custom-role step's verify and this step's read come between).
    await setLatency(sim, { lroMs: { storageAccount: 100 }, replicationMs: 6000 });
    const role = (await applyWithRetries(customRoleStep, setup)).result;
    const { ctx } = testStepContext(sim, { outputs: { storage, "app-registration": app, "custom-role": role } });
    const error = await azureError(roleAssignmentsStep.apply(ctx, await roleAssignmentsStep.read(ctx)));
    expect(error.code).toBe("role_definition_not_found");
    expect(classifyAzureError(error)).toBe("replication");
    const { result, retried } = await applyWithRetries(roleAssignmentsStep, ctx);
    expect(retried.every((k) => k === "replication")).toBe(true);
    expect(await roleAssignmentsStep.verify(ctx, result)).toMatchObject({ ok: true });
    expect(triples(await assignmentsOf(app.servicePrincipalId))).toEqual(expectedTriples(role.roleId).sort());
  });
});

describe("role-assignments under random faults", () => {
  it("ends with exactly the eight assignments and the exact condition text", async () => {
    await resetScenario(0);
    const { app, role, storage } = await prerequisites();
    const { ctx } = testStepContext(sim, { outputs: { storage, "app-registration": app, "custom-role": role } });
    await clearRequests(sim);
    await setFaults(sim, { rate: 0.2, kinds: ["429", "500", "503", "PrincipalNotFound", "NoBackingApplicationObject"], seed: 17 });
    let result: RoleAssignmentsOutput;
    try {
      result = (await applyWithRetries(roleAssignmentsStep, ctx)).result;
      await applyWithRetries(roleAssignmentsStep, ctx);
    } finally {
      await setFaults(sim, { rate: 0 });
    }
    expect((await simRequests(sim)).some((r) => r.status >= 400)).toBe(true);
    expect((await withRetries(() => roleAssignmentsStep.verify(ctx, result))).result).toMatchObject({ ok: true });
    const live = await assignmentsOf(app.servicePrincipalId);
    expect(live).toHaveLength(8);
    expect(triples(live)).toEqual(expectedTriples(role.roleId).sort());
  });
});
