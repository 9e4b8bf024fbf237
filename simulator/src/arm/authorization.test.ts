import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { startTestSimulator } from "../testing";
import { armClients, azureFailure, graphClient, OWNER, OWNER_OID, READER, READER_OID, SUB_DEV, SUB_PROD } from "./test-support";

// Wide enough that the "too early" calls stay inside the window on a slow CI machine.
const REPLICATION_MS = 1500;
let sim: RunningSimulator;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const roleDef = (id: string, sub = SUB_PROD) => `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${id}`;
const BLOB_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
const LA_READER = "73c42c96-874c-492b-b04d-ab87d138a893";
const READER_ROLE = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const CONDITION =
  "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR (@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'contosoaksaudit01'))";

/** A new app + service principal through Graph, as the portal creates them. */
async function newServicePrincipal(): Promise<{ appId: string; spId: string }> {
  const graph = graphClient(sim, { upn: OWNER });
  const app = (await graph.api("/applications").post({ displayName: `vendor-${randomUUID()}` })) as { appId: string };
  sim.state().graph.applications.forEach((a) => {
    if (a.appId === app.appId) a.createdDateTime = new Date(Date.now() - 10 * REPLICATION_MS).toISOString();
  });
  const sp = (await graph.api("/servicePrincipals").post({ appId: app.appId })) as { id: string };
  return { appId: app.appId, spId: sp.id };
}

beforeAll(async () => {
  sim = await startTestSimulator();
  sim.state().latency = { requestMs: 0, lroMs: { storageAccount: 100 }, replicationMs: REPLICATION_MS };
});
afterAll(async () => sim.close());

describe("role definitions", () => {
  const roleId = "5b7e0f5c-1d2e-4c7a-9a0b-2f6c3d4e5f60";
  const role = {
    roleName: "Vendor AKS Audit Reader",
    description: "Read AKS clusters for the vendor",
    roleType: "CustomRole",
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
    assignableScopes: [`/subscriptions/${SUB_PROD}`, `/subscriptions/${SUB_DEV}`],
  };

  it("reads built-in roles at any scope", async () => {
    const { authorization } = armClients(sim, READER);
    const owner = await authorization.roleDefinitions.get(`/subscriptions/${SUB_PROD}`, "8e3af657-a8ff-443c-a75c-2fe8c4bcb635");
    expect(owner).toMatchObject({ roleName: "Owner", roleType: "BuiltInRole", id: roleDef("8e3af657-a8ff-443c-a75c-2fe8c4bcb635") });
    const found = [];
    for await (const d of authorization.roleDefinitions.list(`/subscriptions/${SUB_PROD}`, {
      filter: "roleName eq 'Storage Blob Data Reader'",
    }))
      found.push(d);
    expect(found.map((d) => d.name)).toEqual([BLOB_READER]);
    expect(found[0]?.permissions?.[0]?.dataActions).toEqual(["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"]);
  });

  it("refuses a custom role when the caller can't write role definitions on every assignable scope", async () => {
    const owner = armClients(sim, OWNER);
    // The reader becomes Owner of production only.
    await owner.authorization.roleAssignments.create(`/subscriptions/${SUB_PROD}`, "7d1f43e2-5c4e-4b36-8f0d-9a3b2c1d0e9f", {
      roleDefinitionId: roleDef("8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
      principalId: READER_OID,
      principalType: "User",
    });
    const reader = armClients(sim, READER);
    const err = await azureFailure(reader.authorization.roleDefinitions.createOrUpdate(`/subscriptions/${SUB_PROD}`, roleId, role));
    expect(err).toMatchObject({ statusCode: 403, code: "AuthorizationFailed" });
    expect(err.message).toBe(
      `The client '${READER}' with object id '${READER_OID}' does not have authorization to perform action 'Microsoft.Authorization/roleDefinitions/write' over scope '/subscriptions/${SUB_DEV}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
  });

  it("creates a custom role (Owner on both subscriptions), finds it by name, refuses a duplicate name", async () => {
    const { authorization } = armClients(sim, OWNER);
    const created = await authorization.roleDefinitions.createOrUpdate(`/subscriptions/${SUB_PROD}`, roleId, role);
    expect(created).toMatchObject({
      name: roleId,
      roleName: role.roleName,
      roleType: "CustomRole",
      assignableScopes: role.assignableScopes,
    });
    const found = [];
    for await (const d of authorization.roleDefinitions.list(`/subscriptions/${SUB_DEV}`, { filter: "type eq 'CustomRole'" }))
      found.push(d.roleName);
    expect(found).toEqual([role.roleName]);
    const dup = await azureFailure(authorization.roleDefinitions.createOrUpdate(`/subscriptions/${SUB_PROD}`, randomUUID(), role));
    expect(dup).toMatchObject({ statusCode: 409, code: "RoleDefinitionWithSameNameExists" });
    // Same id again (e.g. with changed actions) is an update.
    const updated = await authorization.roleDefinitions.createOrUpdate(`/subscriptions/${SUB_PROD}`, roleId, {
      ...role,
      description: "v2",
    });
    expect(updated).toMatchObject({ name: roleId, description: "v2" });
  });

  it("answers RoleDefinitionDoesNotExist for a just-created custom role, then assigns it", async () => {
    const { authorization } = armClients(sim, OWNER);
    const freshId = "9c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f";
    const { spId } = await newServicePrincipal();
    sim.state().graph.servicePrincipals.forEach((sp) => {
      if (sp.id === spId) sp.createdDateTime = new Date(Date.now() - 10 * REPLICATION_MS).toISOString();
    });
    await authorization.roleDefinitions.createOrUpdate(`/subscriptions/${SUB_PROD}`, freshId, { ...role, roleName: "Fresh role" });
    const params = { roleDefinitionId: roleDef(freshId), principalId: spId, principalType: "ServicePrincipal" as const };
    const early = await azureFailure(authorization.roleAssignments.create(`/subscriptions/${SUB_PROD}`, randomUUID(), params));
    expect(early).toMatchObject({ statusCode: 400, code: "RoleDefinitionDoesNotExist" });
    expect(early.message).toBe(`The specified role definition with ID '${freshId}' does not exist.`);
    await sleep(REPLICATION_MS + 50);
    const ok = await authorization.roleAssignments.create(`/subscriptions/${SUB_PROD}`, randomUUID(), params);
    expect(ok.roleDefinitionId).toBe(roleDef(freshId));
  });
});

describe("role assignments", () => {
  it("hits PrincipalNotFound for a new service principal unless principalType is ServicePrincipal", async () => {
    const { authorization } = armClients(sim, OWNER);
    const { spId } = await newServicePrincipal();
    const scope = `/subscriptions/${SUB_PROD}`;
    const early = await azureFailure(
      authorization.roleAssignments.create(scope, randomUUID(), { roleDefinitionId: roleDef(LA_READER), principalId: spId }),
    );
    expect(early).toMatchObject({ statusCode: 400, code: "PrincipalNotFound" });
    expect(early.message).toContain(`Principal ${spId.replace(/-/g, "")} does not exist in the directory`);
    expect(early.message).toContain("this error might be related to a replication delay");
    const ok = await authorization.roleAssignments.create(scope, randomUUID(), {
      roleDefinitionId: roleDef(LA_READER),
      principalId: spId,
      principalType: "ServicePrincipal",
    });
    expect(ok).toMatchObject({ principalId: spId, principalType: "ServicePrincipal", scope });
    const unknown = await azureFailure(
      authorization.roleAssignments.create(scope, randomUUID(), {
        roleDefinitionId: roleDef(LA_READER),
        principalId: randomUUID(),
        principalType: "ServicePrincipal",
      }),
    );
    expect(unknown.code).toBe("PrincipalNotFound");
  });

  it("round-trips an ABAC condition, requires conditionVersion 2.0, detects duplicates and renamed reuse", async () => {
    const { authorization } = armClients(sim, OWNER);
    const { spId } = await newServicePrincipal();
    const scope = `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod-eastus`;
    const name = "3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b";
    const params = {
      roleDefinitionId: roleDef(BLOB_READER),
      principalId: spId,
      principalType: "ServicePrincipal" as const,
      condition: CONDITION,
      conditionVersion: "2.0",
    };
    const created = await authorization.roleAssignments.create(scope, name, params);
    expect(created.condition).toBe(CONDITION);
    expect(created.conditionVersion).toBe("2.0");
    expect((await authorization.roleAssignments.get(scope, name)).condition).toBe(CONDITION);
    const noVersion = await azureFailure(
      authorization.roleAssignments.create(scope, randomUUID(), { ...params, conditionVersion: undefined }),
    );
    expect(noVersion.statusCode).toBe(400);
    const garbage = await azureFailure(
      authorization.roleAssignments.create(scope, randomUUID(), { ...params, condition: "((@Resource[x StringEquals 'a'" }),
    );
    expect(garbage.statusCode).toBe(400);
    const exists = await azureFailure(authorization.roleAssignments.create(scope, randomUUID(), params));
    expect(exists).toMatchObject({ statusCode: 409, code: "RoleAssignmentExists", message: "The role assignment already exists." });
    const reused = await azureFailure(
      authorization.roleAssignments.create(scope, name, { ...params, roleDefinitionId: roleDef(LA_READER) }),
    );
    expect(reused).toMatchObject({ statusCode: 409, code: "RoleAssignmentUpdateNotPermitted" });
    expect(reused.message).toBe("Tenant ID, application ID, principal ID, and scope are not allowed to be updated.");
  });

  it("filters lists with atScope(), assignedTo() and principalId eq", async () => {
    const { authorization } = armClients(sim, OWNER);
    const sub = `/subscriptions/${SUB_PROD}`;
    const mine = [];
    for await (const a of authorization.roleAssignments.listForScope(sub, { filter: `atScope() and assignedTo('${OWNER_OID}')` }))
      mine.push(a);
    expect(mine.map((a) => a.roleDefinitionId?.split("/").pop())).toEqual(["8e3af657-a8ff-443c-a75c-2fe8c4bcb635"]);
    const readerAll = [];
    for await (const a of authorization.roleAssignments.listForSubscription({ filter: `principalId eq '${READER_OID}'` }))
      readerAll.push(a);
    expect(readerAll.map((a) => a.scope)).toContain(sub);
    expect(readerAll.every((a) => a.principalId === READER_OID)).toBe(true);
    const atRg = [];
    for await (const a of authorization.roleAssignments.listForScope(`${sub}/resourceGroups/rg-aks-prod-eastus`, { filter: "atScope()" }))
      atRg.push(a.scope);
    expect(atRg.every((s) => s === sub || s === `${sub}/resourceGroups/rg-aks-prod-eastus`)).toBe(true);
  });

  it("refuses a Reader, and reports permissions so the portal can tell who may assign roles", async () => {
    const readerDev = armClients(sim, READER, SUB_DEV);
    const err = await azureFailure(
      readerDev.authorization.roleAssignments.create(`/subscriptions/${SUB_DEV}`, randomUUID(), {
        roleDefinitionId: roleDef(READER_ROLE, SUB_DEV),
        principalId: OWNER_OID,
        principalType: "User",
      }),
    );
    expect(err).toMatchObject({ statusCode: 403, code: "AuthorizationFailed" });
    expect(err.message).toContain("'Microsoft.Authorization/roleAssignments/write'");
    const perms = [];
    for await (const p of readerDev.authorization.permissions.listForResourceGroup("rg-aks-dev-eastus")) perms.push(p);
    expect(perms.flatMap((p) => p.actions)).toEqual(["*/read"]);
  });

  it("makes assignments to service principals effective for their app tokens", async () => {
    const { authorization } = armClients(sim, OWNER);
    const { appId, spId } = await newServicePrincipal();
    await authorization.roleAssignments.create(`/subscriptions/${SUB_DEV}`, randomUUID(), {
      roleDefinitionId: roleDef(READER_ROLE, SUB_DEV),
      principalId: spId,
      principalType: "ServicePrincipal",
    });
    const token = await (await import("../testing")).simToken(sim, { appId, resource: "arm" });
    const res = await fetch(`${sim.url}/subscriptions?api-version=2022-12-01`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await res.json()) as { value: { subscriptionId: string }[] };
    expect(body.value.map((s) => s.subscriptionId)).toEqual([SUB_DEV]);
    const write = await fetch(`${sim.url}/subscriptions/${SUB_DEV}/resourcegroups/rg-x?api-version=2025-04-01`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ location: "eastus" }),
    });
    expect(write.status).toBe(403);
    expect(((await write.json()) as { error: { message: string } }).error.message).toContain(
      `The client '${appId}' with object id '${spId}'`,
    );
  });
});
