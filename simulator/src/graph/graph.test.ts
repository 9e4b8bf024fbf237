import type { GraphError } from "@microsoft/microsoft-graph-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOG_ANALYTICS_DATA_READ_ROLE_ID, WELL_KNOWN_APPS } from "../contract";
import type { RunningSimulator } from "../index";
import { startTestSimulator } from "../testing";
import { graphClient, OWNER, OWNER_OID, READER } from "../arm/test-support";

const REPLICATION_MS = 1000;
let sim: RunningSimulator;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function graphFailure(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (e) {
    return e as GraphError;
  }
  throw new Error("expected the Graph call to fail");
}

beforeAll(async () => {
  sim = await startTestSimulator();
  sim.state().latency = { requestMs: 0, lroMs: { storageAccount: 100 }, replicationMs: REPLICATION_MS };
});
afterAll(async () => sim.close());

describe("users", () => {
  it("answers /me with User.Read and shows directory roles to Directory.Read.All", async () => {
    const me = (await graphClient(sim, { upn: OWNER }, ["User.Read"]).api("/me").get()) as Record<string, unknown>;
    expect(me).toMatchObject({ id: OWNER_OID, userPrincipalName: OWNER, displayName: "Olivia Owner" });
    expect(me["@odata.context"]).toBe("https://graph.microsoft.com/v1.0/$metadata#users/$entity");
    const roles = (await graphClient(sim, { upn: OWNER }, ["Directory.Read.All"]).api("/me/memberOf").get()) as {
      value: { displayName: string; roleTemplateId: string }[];
    };
    expect(roles.value).toEqual([
      expect.objectContaining({ displayName: "Cloud Application Administrator", roleTemplateId: "158c047a-c907-4556-b7ef-446551a6b5f7" }),
    ]);
    const noScope = await graphFailure(graphClient(sim, { upn: OWNER }, ["Application.Read.All"]).api("/me").get());
    expect(noScope.statusCode).toBe(403);
    const unknown = await graphFailure(graphClient(sim, { upn: OWNER }).api("/groupz").get());
    expect(unknown.statusCode).toBe(400);
    expect(unknown.message).toBe("Resource not found for the segment 'groupz'.");
  });

  it("lists the signed-in user's own directory roles with User.Read alone, direct or transitive, cast to directoryRole", async () => {
    const client = graphClient(sim, { upn: OWNER }, ["User.Read"]);
    for (const path of ["/me/memberOf", "/me/transitiveMemberOf", "/me/transitiveMemberOf/microsoft.graph.directoryRole"]) {
      const roles = (await client.api(path).get()) as { value: { roleTemplateId: string }[] };
      expect(roles.value.map((r) => r.roleTemplateId)).toEqual(["158c047a-c907-4556-b7ef-446551a6b5f7"]);
    }
    expect(
      ((await graphClient(sim, { upn: READER }, ["User.Read"]).api("/me/transitiveMemberOf").get()) as { value: unknown[] }).value,
    ).toEqual([]);
    // Another user's memberships still need more than User.Read.
    expect((await graphFailure(client.api(`/users/${READER}/memberOf`).get())).statusCode).toBe(403);
  });
});

describe("applications", () => {
  it("refuses writes without Application.ReadWrite.All", async () => {
    const err = await graphFailure(graphClient(sim, { upn: OWNER }, ["User.Read"]).api("/applications").post({ displayName: "x" }));
    expect(err.statusCode).toBe(403);
    expect(err.code).toBe("Authorization_RequestDenied");
    expect(err.message).toBe("Insufficient privileges to complete the operation.");
  });

  it("upserts by uniqueName: 201 with the object, then 204", async () => {
    const graph = graphClient(sim, { upn: OWNER });
    const body = {
      displayName: "Vendor AKS audit reader",
      signInAudience: "AzureADMyOrg",
      requiredResourceAccess: [
        { resourceAppId: WELL_KNOWN_APPS.logAnalyticsApi, resourceAccess: [{ id: LOG_ANALYTICS_DATA_READ_ROLE_ID, type: "Role" }] },
      ],
    };
    const created = await graph
      .api("/applications(uniqueName='vendor-aks-audit')")
      .header("Prefer", "create-if-missing")
      .responseType("raw" as never)
      .patch(body);
    const raw = created as Response;
    expect(raw.status).toBe(201);
    const app = (await raw.json()) as { id: string; appId: string; uniqueName: string; requiredResourceAccess: unknown[] };
    expect(app.uniqueName).toBe("vendor-aks-audit");
    expect(app.requiredResourceAccess).toEqual(body.requiredResourceAccess);
    const updated = (await graph
      .api("/applications(uniqueName='vendor-aks-audit')")
      .header("Prefer", "create-if-missing")
      .responseType("raw" as never)
      .patch({ ...body, notes: "managed by the portal" })) as Response;
    expect(updated.status).toBe(204);
    const read = (await graph.api("/applications(uniqueName='vendor-aks-audit')").get()) as { id: string; notes: string };
    expect(read).toMatchObject({ id: app.id, notes: "managed by the portal" });
    const byAppId = (await graph.api("/applications").filter(`appId eq '${app.appId}'`).get()) as { value: { id: string }[] };
    expect(byAppId.value.map((a) => a.id)).toEqual([app.id]);
    expect(
      ((await graph.api(`/applications(appId='${app.appId}')`).select("id,displayName").get()) as Record<string, unknown>).displayName,
    ).toBe(body.displayName);
    const missing = await graphFailure(graph.api("/applications(uniqueName='nope')").patch({ displayName: "nope" }));
    expect(missing.statusCode).toBe(404);
    const badId = await graphFailure(graph.api("/applications/vendor-aks-audit").get());
    expect(badId.statusCode).toBe(400);
    expect(badId.message).toBe("Invalid object identifier 'vendor-aks-audit'.");
  });

  it("adds a password (secret shown once) and removes it", async () => {
    const graph = graphClient(sim, { upn: OWNER });
    const app = (await graph.api("/applications").post({ displayName: "secret holder" })) as { id: string; appId: string };
    const cred = (await graph
      .api(`/applications/${app.id}/addPassword`)
      .post({ passwordCredential: { displayName: "vendor", endDateTime: "2027-11-27T00:00:00Z" } })) as {
      keyId: string;
      secretText: string;
      hint: string;
      endDateTime: string;
    };
    expect(cred.secretText).toHaveLength(40);
    expect(cred.hint).toBe(cred.secretText.slice(0, 3));
    expect(cred.endDateTime).toBe("2027-11-27T00:00:00.000Z");
    expect(sim.state().secrets).toContainEqual({
      appId: app.appId,
      keyId: cred.keyId,
      secretText: cred.secretText,
      endDateTime: cred.endDateTime,
      createdAt: expect.any(Number),
    });
    const stored = (await graph.api(`/applications/${app.id}`).get()) as { passwordCredentials: Record<string, unknown>[] };
    expect(stored.passwordCredentials).toEqual([
      expect.objectContaining({ keyId: cred.keyId, hint: cred.hint, displayName: "vendor", secretText: null }),
    ]);
    await graph.api(`/applications/${app.id}/removePassword`).post({ keyId: cred.keyId });
    expect(((await graph.api(`/applications/${app.id}`).get()) as { passwordCredentials: unknown[] }).passwordCredentials).toEqual([]);
    expect(sim.state().secrets.some((s) => s.keyId === cred.keyId)).toBe(false);
  });

  it("refuses credential changes to a user who neither owns the app nor holds an application admin role", async () => {
    const app = (await graphClient(sim, { upn: OWNER }).api("/applications").post({ displayName: "guarded" })) as { id: string };
    const denied = await graphFailure(
      graphClient(sim, { upn: READER })
        .api(`/applications/${app.id}/addPassword`)
        .post({ passwordCredential: { displayName: "x" } }),
    );
    expect(denied.statusCode).toBe(403);
    expect(denied.code).toBe("Authorization_RequestDenied");
  });

  it("lets the user who created an app manage its credentials without an admin role (the creator owns it)", async () => {
    const reader = graphClient(sim, { upn: READER });
    const app = (await reader.api("/applications").post({ displayName: "readers own" })) as { id: string };
    const cred = (await reader.api(`/applications/${app.id}/addPassword`).post({ passwordCredential: { displayName: "x" } })) as {
      keyId: string;
    };
    expect(cred.keyId).toMatch(/^[0-9a-f-]{36}$/);
    await reader.api(`/applications/${app.id}/removePassword`).post({ keyId: cred.keyId });
    const owners = (await reader.api(`/applications/${app.id}/owners`).select("id").get()) as { value: { id: string }[] };
    expect(owners.value.map((o) => o.id)).toEqual([
      sim
        .state()
        .scenario.users.find((u) => u.upn === READER)
        ?.objectId.toLowerCase(),
    ]);
    expect((await graphFailure(reader.api("/applications(uniqueName='nope')/owners").get())).statusCode).toBe(404);
  });
});

describe("service principals and admin consent", () => {
  let appId = "";
  let spId = "";
  const laSp = () => sim.state().graph.servicePrincipals.find((s) => s.appId === WELL_KNOWN_APPS.logAnalyticsApi)?.id ?? "";

  it("answers NoBackingApplicationObject while the new app replicates, then creates; duplicates conflict", async () => {
    const graph = graphClient(sim, { upn: OWNER });
    appId = ((await graph.api("/applications").post({ displayName: "vendor sp" })) as { appId: string }).appId;
    const early = await graphFailure(graph.api("/servicePrincipals").post({ appId }));
    expect(early.statusCode).toBe(400);
    expect(early.code).toBe("Request_BadRequest");
    expect(early.message).toBe(`The appId '${appId}' of the service principal does not reference a valid application object.`);
    await sleep(REPLICATION_MS + 50);
    const sp = (await graph.api("/servicePrincipals").post({ appId })) as { id: string; appId: string; servicePrincipalType: string };
    expect(sp).toMatchObject({ appId, servicePrincipalType: "Application" });
    spId = sp.id;
    const dup = await graphFailure(graph.api("/servicePrincipals").post({ appId }));
    expect(dup.statusCode).toBe(409);
    expect(dup.code).toBe("Request_MultipleObjectsWithSameKeyValue");
    expect(((await graph.api(`/servicePrincipals(appId='${appId}')`).get()) as { id: string }).id).toBe(spId);
    expect(((await graph.api("/servicePrincipals").filter(`appId eq '${appId}'`).get()) as { value: { id: string }[] }).value[0]?.id).toBe(
      spId,
    );
  });

  it("upserts a service principal by appId (201, then 204)", async () => {
    const graph = graphClient(sim, { upn: OWNER });
    const other = ((await graph.api("/applications").post({ displayName: "upserted sp" })) as { appId: string }).appId;
    await sleep(REPLICATION_MS + 50);
    const first = (await graph
      .api(`/servicePrincipals(appId='${other}')`)
      .header("Prefer", "create-if-missing")
      .responseType("raw" as never)
      .patch({ tags: ["vendor"] })) as Response;
    expect(first.status).toBe(201);
    expect((await first.json()) as { appId: string; tags: string[] }).toMatchObject({ appId: other, tags: ["vendor"] });
    const second = (await graph
      .api(`/servicePrincipals(appId='${other}')`)
      .header("Prefer", "create-if-missing")
      .responseType("raw" as never)
      .patch({ notes: "x" })) as Response;
    expect(second.status).toBe(204);
  });

  it("exposes the Log Analytics API Data.Read app role", async () => {
    const graph = graphClient(sim, { upn: OWNER });
    const la = (await graph.api(`/servicePrincipals(appId='${WELL_KNOWN_APPS.logAnalyticsApi}')`).select("id,appRoles").get()) as {
      id: string;
      appRoles: { id: string; value: string; allowedMemberTypes: string[] }[];
      displayName?: string;
    };
    expect(la.displayName).toBeUndefined();
    const role = la.appRoles.find((r) => r.value === "Data.Read" && r.allowedMemberTypes.includes("Application"));
    expect(role?.id).toBe(LOG_ANALYTICS_DATA_READ_ROLE_ID);
  });

  it("grants Data.Read with consent rights, refuses duplicates, unknown roles and callers without rights", async () => {
    const owner = graphClient(sim, { upn: OWNER });
    const grant = { principalId: spId, resourceId: laSp(), appRoleId: LOG_ANALYTICS_DATA_READ_ROLE_ID };
    const noRole = await graphFailure(graphClient(sim, { upn: READER }).api(`/servicePrincipals/${laSp()}/appRoleAssignedTo`).post(grant));
    expect(noRole.statusCode).toBe(403);
    const noScope = await graphFailure(
      graphClient(sim, { upn: OWNER }, ["Application.ReadWrite.All"]).api(`/servicePrincipals/${laSp()}/appRoleAssignedTo`).post(grant),
    );
    expect(noScope.statusCode).toBe(403);
    expect(noScope.code).toBe("Authorization_RequestDenied");
    const created = (await owner.api(`/servicePrincipals/${laSp()}/appRoleAssignedTo`).post(grant)) as Record<string, unknown>;
    expect(created).toMatchObject({
      principalId: spId,
      resourceId: laSp(),
      appRoleId: LOG_ANALYTICS_DATA_READ_ROLE_ID,
      principalType: "ServicePrincipal",
      resourceDisplayName: "Log Analytics API",
    });
    const dup = await graphFailure(owner.api(`/servicePrincipals/${laSp()}/appRoleAssignedTo`).post(grant));
    expect(dup.statusCode).toBe(400);
    expect(dup.message).toBe("Permission being assigned already exists on the object");
    const wrongRole = await graphFailure(
      owner.api(`/servicePrincipals/${laSp()}/appRoleAssignedTo`).post({ ...grant, appRoleId: "0c0bf378-bf22-4481-8f81-9e89a9b4960a" }),
    );
    expect(wrongRole.statusCode).toBe(400);
    const graphSp = sim.state().graph.servicePrincipals.find((s) => s.appId === WELL_KNOWN_APPS.microsoftGraph)?.id ?? "";
    const graphRole = await graphFailure(
      owner
        .api(`/servicePrincipals/${graphSp}/appRoleAssignedTo`)
        .post({ principalId: spId, resourceId: graphSp, appRoleId: "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30" }),
    );
    expect(graphRole.statusCode).toBe(403);
    const mine = (await owner.api(`/servicePrincipals/${spId}/appRoleAssignments`).get()) as { value: { id: string }[] };
    expect(mine.value.map((a) => a.id)).toEqual([created.id]);
    const assignedTo = (await owner.api(`/servicePrincipals/${laSp()}/appRoleAssignedTo`).get()) as { value: { principalId: string }[] };
    expect(assignedTo.value.map((a) => a.principalId)).toContain(spId);
    await owner.api(`/servicePrincipals/${laSp()}/appRoleAssignedTo/${String(created.id)}`).delete();
    expect(((await owner.api(`/servicePrincipals/${spId}/appRoleAssignments`).get()) as { value: unknown[] }).value).toEqual([]);
  });

  it("deletes an application together with its service principal", async () => {
    const graph = graphClient(sim, { upn: OWNER });
    const app = (await graph.api(`/applications(appId='${appId}')`).get()) as { id: string };
    await graph.api(`/applications/${app.id}`).delete();
    const gone = await graphFailure(graph.api(`/servicePrincipals/${spId}`).get());
    expect(gone.statusCode).toBe(404);
    expect(gone.code).toBe("Request_ResourceNotFound");
  });
});
