// lib/azure RBAC operations against the simulated ARM: custom role, role assignments (with ABAC), replication delays.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRoleAssignment } from "../../../lib/azure/create-role-assignment";
import { deleteRoleAssignment } from "../../../lib/azure/delete-role-assignment";
import { ensureServicePrincipal } from "../../../lib/azure/ensure-service-principal";
import { classifyAzureError } from "../../../lib/azure/errors";
import { getCustomRoleDefinition } from "../../../lib/azure/get-custom-role-definition";
import { listPrincipalAssignmentsInSubscription } from "../../../lib/azure/list-principal-assignments";
import { customRoleId, roleAssignmentName } from "../../../lib/azure/names";
import { putCustomRoleDefinition, type CustomRoleInput } from "../../../lib/azure/put-custom-role-definition";
import { BUILTIN_ROLE_IDS } from "../../../lib/azure/role-ids";
import { upsertApplication } from "../../../lib/azure/upsert-application";
import type { RunningSimulator } from "../../../simulator/src/index";
import {
  armOfType,
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
  userCredential,
} from "./support";

let sim: RunningSimulator;
let spId = "";
const owner = () => userCredential(sim, OWNER, "arm");
const reader = () => userCredential(sim, READER, "arm");
const SUB_SCOPE = `/subscriptions/${SUB_PROD}`;
const RG_SCOPE = `${SUB_SCOPE}/resourceGroups/rg-aks-prod-eastus`;
const ROLE_ID = customRoleId(TENANT, "aks-audit-reader");
const ABAC =
  "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR (@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'contosoauditeus01'))";

/** The SP's assignments made exactly at `scope`, from the one list of its subscription. */
async function assignedAt(scope: string) {
  return (await listPrincipalAssignmentsInSubscription(owner(), SUB_PROD, spId)).filter(
    (a) => a.scope.toLowerCase() === scope.toLowerCase(),
  );
}

const roleInput = (subscriptionIds: string[]): CustomRoleInput => ({
  roleId: ROLE_ID,
  roleName: "AKS audit vendor reader",
  description: "Read-only access to AKS clusters for the security vendor.",
  permissions: [
    {
      actions: [
        "Microsoft.ContainerService/managedClusters/read",
        "Microsoft.ContainerService/managedClusters/listClusterUserCredential/action",
      ],
      notActions: [],
      dataActions: ["Microsoft.ContainerService/managedClusters/*/read"],
      notDataActions: ["Microsoft.ContainerService/managedClusters/secrets/read"],
    },
  ],
  subscriptionIds,
});

beforeAll(async () => {
  sim = await startSimForPortal();
  const graph = userCredential(sim, OWNER, "graph");
  const app = await upsertApplication(graph, { uniqueName: "vendor-rbac", displayName: "Vendor RBAC", requiredAppRoles: [] });
  spId = (await ensureServicePrincipal(graph, app.appId)).servicePrincipal.id;
});
afterAll(async () => sim.close());

describe("custom role", () => {
  it("is created at the first subscription, assignable in all, and updated in place on re-runs", async () => {
    expect(await getCustomRoleDefinition(owner(), SUB_SCOPE, ROLE_ID)).toBeNull();
    await clearRequests(sim);
    const created = await putCustomRoleDefinition(owner(), roleInput([SUB_PROD]));
    const [put] = await simRequests(sim);
    expect(put?.method).toBe("PUT");
    expect(
      put?.url.startsWith(`/subscriptions/${SUB_PROD}/providers/Microsoft.Authorization/roleDefinitions/${ROLE_ID}?api-version=2022-04-01`),
    ).toBe(true);
    expect(put?.body.properties).toMatchObject({ roleName: "AKS audit vendor reader", type: "CustomRole", assignableScopes: [SUB_SCOPE] });
    expect(created).toMatchObject({
      id: `/subscriptions/${SUB_PROD}/providers/Microsoft.Authorization/roleDefinitions/${ROLE_ID}`,
      name: ROLE_ID,
      roleName: "AKS audit vendor reader",
      roleType: "CustomRole",
      assignableScopes: [`/subscriptions/${SUB_PROD}`],
      permissions: roleInput([]).permissions,
    });
    const extended = await putCustomRoleDefinition(owner(), roleInput([SUB_PROD, SUB_DEV]));
    expect(extended.assignableScopes).toEqual([`/subscriptions/${SUB_DEV}`, `/subscriptions/${SUB_PROD}`].sort());
    expect(await getCustomRoleDefinition(owner(), `/subscriptions/${SUB_DEV}`, ROLE_ID)).toMatchObject({
      name: ROLE_ID,
      roleName: "AKS audit vendor reader",
    });
    const customs = (await armOfType(sim, "Microsoft.Authorization/roleDefinitions")).filter((d) => d.name === ROLE_ID);
    expect(customs).toHaveLength(1);
  });

  it("tells a Reader that custom roles need Owner or User Access Administrator", async () => {
    const error = await azureError(
      putCustomRoleDefinition(reader(), { ...roleInput([SUB_PROD]), roleId: customRoleId(TENANT, "reader-try"), roleName: "x" }),
    );
    expect(error).toMatchObject({ code: "forbidden", azureCode: "AuthorizationFailed" });
    expect(error.message).toContain("Owner or User Access Administrator");
  });

  it("maps a role name used by another role to role_name_taken", async () => {
    const error = await azureError(
      putCustomRoleDefinition(owner(), { ...roleInput([SUB_PROD]), roleId: customRoleId(TENANT, "dup"), roleName: "Reader" }),
    );
    expect(error).toMatchObject({ code: "role_name_taken", azureCode: "RoleDefinitionWithSameNameExists" });
  });
});

describe("role assignments", () => {
  it("assigns a built-in role under the deterministic name; a re-run changes nothing", async () => {
    const created = await createRoleAssignment(owner(), {
      scope: SUB_SCOPE,
      roleDefinitionId: BUILTIN_ROLE_IDS.logAnalyticsReader,
      principalId: spId,
    });
    expect(created).toMatchObject({
      name: roleAssignmentName(SUB_SCOPE, spId, BUILTIN_ROLE_IDS.logAnalyticsReader),
      scope: SUB_SCOPE,
      principalId: spId,
      principalType: "ServicePrincipal",
      roleDefinitionGuid: BUILTIN_ROLE_IDS.logAnalyticsReader,
      condition: null,
      conditionVersion: null,
    });
    const again = await createRoleAssignment(owner(), {
      scope: SUB_SCOPE,
      roleDefinitionId: BUILTIN_ROLE_IDS.logAnalyticsReader,
      principalId: spId,
    });
    expect(again.id).toBe(created.id);
    const mine = (await assignedAt(SUB_SCOPE)).filter((a) => a.roleDefinitionGuid === BUILTIN_ROLE_IDS.logAnalyticsReader);
    expect(mine).toEqual([created]);
  });

  it("maps the same access under another name to role_assignment_exists, which the listing verifies", async () => {
    const error = await azureError(
      createRoleAssignment(owner(), {
        scope: SUB_SCOPE,
        roleDefinitionId: BUILTIN_ROLE_IDS.logAnalyticsReader,
        principalId: spId,
        name: "0f0f0f0f-0000-4000-8000-000000000001",
      }),
    );
    expect(error).toMatchObject({ code: "role_assignment_exists", azureCode: "RoleAssignmentExists", status: 409 });
    const existing = (await assignedAt(SUB_SCOPE)).filter((a) => a.roleDefinitionGuid === BUILTIN_ROLE_IDS.logAnalyticsReader);
    expect(existing).toHaveLength(1);
  });

  it("round-trips an ABAC condition exactly, with conditionVersion 2.0", async () => {
    await clearRequests(sim);
    const created = await createRoleAssignment(owner(), {
      scope: RG_SCOPE,
      roleDefinitionId: BUILTIN_ROLE_IDS.storageBlobDataReader,
      principalId: spId,
      condition: ABAC,
    });
    expect(created.condition).toBe(ABAC);
    expect(created.conditionVersion).toBe("2.0");
    const put = (await simRequests(sim)).find((r) => r.method === "PUT");
    expect(put?.body).toEqual({
      properties: {
        roleDefinitionId: `/subscriptions/${SUB_PROD}/providers/Microsoft.Authorization/roleDefinitions/${BUILTIN_ROLE_IDS.storageBlobDataReader}`,
        principalId: spId,
        principalType: "ServicePrincipal",
        condition: ABAC,
        conditionVersion: "2.0",
      },
    });
    const listed = (await assignedAt(RG_SCOPE)).find((a) => a.name === created.name);
    expect(listed?.condition).toBe(ABAC);
    expect(listed?.conditionVersion).toBe("2.0");
    const stored = (await armOfType(sim, "Microsoft.Authorization/roleAssignments")).find((a) => a.name === created.name);
    expect(stored?.properties.condition).toBe(ABAC);
  });

  it("lists the principal's assignments at and below the subscription in one request, and no other principal's", async () => {
    await clearRequests(sim);
    const listed = await listPrincipalAssignmentsInSubscription(owner(), SUB_PROD, spId);
    const gets = (await simRequests(sim)).filter((r) => r.method === "GET");
    expect(gets).toHaveLength(1);
    expect(decodeURIComponent(gets[0]?.url ?? "")).toContain(`$filter=principalId eq '${spId}'`);
    expect(listed.map((a) => a.scope.toLowerCase()).sort()).toEqual([SUB_SCOPE.toLowerCase(), RG_SCOPE.toLowerCase()]);
    expect(listed.every((a) => a.principalId === spId)).toBe(true);
    // The scenario's users hold assignments in this subscription too: none of theirs comes back.
    const everyone = await armOfType(sim, "Microsoft.Authorization/roleAssignments");
    expect(everyone.some((a) => a.properties.principalId !== spId && String(a.properties.scope).startsWith(SUB_SCOPE))).toBe(true);
  });

  it("refuses a principal id that is not a GUID before any request (it goes into an OData filter)", async () => {
    await clearRequests(sim);
    await expect(listPrincipalAssignmentsInSubscription(owner(), SUB_PROD, "x' or principalId ne 'y")).rejects.toThrow(/GUID/);
    expect(await simRequests(sim)).toEqual([]);
  });

  it("classifies a custom role that has not replicated yet as replication, and assigns it afterwards", async () => {
    // A window far longer than the two calls take under CI load; closing it below makes the role replicated at once.
    await setLatency(sim, { replicationMs: 60_000 });
    const roleId = customRoleId(TENANT, "fresh-role");
    await putCustomRoleDefinition(owner(), { ...roleInput([SUB_PROD]), roleId, roleName: "Fresh role" });
    const error = await azureError(createRoleAssignment(owner(), { scope: SUB_SCOPE, roleDefinitionId: roleId, principalId: spId }));
    expect(error).toMatchObject({ code: "role_definition_not_found", azureCode: "RoleDefinitionDoesNotExist" });
    expect(classifyAzureError(error)).toBe("replication");
    await setLatency(sim, { replicationMs: 0 });
    const created = await createRoleAssignment(owner(), { scope: SUB_SCOPE, roleDefinitionId: roleId, principalId: spId });
    expect(created.roleDefinitionGuid).toBe(roleId);
  });

  it("classifies PrincipalNotFound as replication", async () => {
    await setFaults(sim, { rate: 1, kinds: ["PrincipalNotFound"], seed: 3 });
    try {
      const error = await azureError(
        createRoleAssignment(owner(), { scope: SUB_SCOPE, roleDefinitionId: BUILTIN_ROLE_IDS.reader, principalId: spId }),
      );
      expect(error).toMatchObject({ code: "principal_not_found", azureCode: "PrincipalNotFound", status: 400 });
      expect(classifyAzureError(error)).toBe("replication");
    } finally {
      await setFaults(sim, { rate: 0 });
    }
  });

  it("tells a Reader which roles can assign access", async () => {
    const error = await azureError(
      createRoleAssignment(reader(), { scope: SUB_SCOPE, roleDefinitionId: BUILTIN_ROLE_IDS.reader, principalId: spId }),
    );
    expect(error.code).toBe("forbidden");
    expect(error.message).toContain("User Access Administrator");
  });

  it("deletes an assignment; deleting it again is a no-op", async () => {
    const created = await createRoleAssignment(owner(), { scope: RG_SCOPE, roleDefinitionId: BUILTIN_ROLE_IDS.reader, principalId: spId });
    await deleteRoleAssignment(owner(), RG_SCOPE, created.name);
    await deleteRoleAssignment(owner(), RG_SCOPE, created.name);
    expect((await assignedAt(RG_SCOPE)).map((a) => a.name)).not.toContain(created.name);
  });
});
