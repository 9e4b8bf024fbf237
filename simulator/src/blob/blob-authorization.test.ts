// Bearer tokens on the blob endpoint: Storage Blob Data Reader at account or subscription scope, its ABAC condition (data
// actions only: container listing and delegation keys follow the scope), Azure's 401/403 answers; Shared Key keeps working.
import crypto from "node:crypto";
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ArmResource } from "../contract";
import type { RunningSimulator } from "../index";
import { simToken, startTestSimulator } from "../testing";

const SUB = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const RG = "rg-aks-prod-eastus";
const READER_ROLE = `/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/2a2b9908-6ea1-4ae2-8e65-a410df84e7d1`;
const READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
const accountId = (name: string) => `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Storage/storageAccounts/${name}`;

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator({ blob: true, kubeAuditIntervalMs: 60_000 });
  for (const name of ["rbacaudit01", "rbacother01"]) {
    const account: ArmResource = {
      id: accountId(name),
      name,
      type: "Microsoft.Storage/storageAccounts",
      location: "eastus",
      kind: "StorageV2",
      properties: { provisioningState: "Succeeded", primaryEndpoints: { blob: `${sim.blobUrl}/${name}/` } },
    };
    sim.state().putArm(account);
    sim.state().events.emit("storageAccountCreated", account);
  }
  // Seed a blob in each account with the account key (what Azure Monitor does).
  for (const name of ["rbacaudit01", "rbacother01"]) {
    const c = sharedKey(name).getContainerClient("insights-logs-kube-audit");
    await eventually(() => c.createIfNotExists());
    await c.getBlockBlobClient("resourceId=/X/y=2026/PT1H.json").upload("{}", 2);
  }
});
afterAll(async () => {
  await sim?.close();
});

function sharedKey(name: string): BlobServiceClient {
  return new BlobServiceClient(`${sim.blobUrl}/${name}`, new StorageSharedKeyCredential(name, sim.state().storageKey(name)));
}

function newApp(): { appId: string; spId: string } {
  const appId = crypto.randomUUID();
  const spId = crypto.randomUUID();
  sim.state().graph.servicePrincipals.push({ id: spId, appId, displayName: "verifier" });
  return { appId, spId };
}

function assign(spId: string, scope: string, condition?: string): void {
  const name = crypto.randomUUID();
  sim.state().putArm({
    id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
    name,
    type: "Microsoft.Authorization/roleAssignments",
    properties: {
      roleDefinitionId: READER_ROLE,
      principalId: spId,
      principalType: "ServicePrincipal",
      scope,
      ...(condition ? { condition, conditionVersion: "2.0" } : {}),
    },
  });
}

function bearer(appId: string, resource: "storage" | "arm" = "storage"): TokenCredential {
  return {
    async getToken(): Promise<AccessToken> {
      return { token: await simToken(sim, { appId, resource }), expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

async function listNames(client: BlobServiceClient): Promise<string[]> {
  const names: string[] = [];
  for await (const b of client.getContainerClient("insights-logs-kube-audit").listBlobsFlat()) names.push(b.name);
  return names;
}

async function failure(p: Promise<unknown>): Promise<{ statusCode?: number; code?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { statusCode?: number; code?: string };
  }
  throw new Error("expected a failure");
}

async function eventually<T>(fn: () => Promise<T>, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const client = (name: string, cred: TokenCredential) => new BlobServiceClient(`${sim.blobUrl}/${name}`, cred);

describe("blob data plane with bearer tokens", () => {
  it("lists and reads with Storage Blob Data Reader on the account, and refuses the other account", async () => {
    const { appId, spId } = newApp();
    assign(spId, accountId("rbacaudit01"));
    const cred = bearer(appId);
    expect(await listNames(client("rbacaudit01", cred))).toEqual(["resourceId=/X/y=2026/PT1H.json"]);
    const text = await client("rbacaudit01", cred)
      .getContainerClient("insights-logs-kube-audit")
      .getBlobClient("resourceId=/X/y=2026/PT1H.json")
      .downloadToBuffer();
    expect(text.toString()).toBe("{}");
    expect(await failure(listNames(client("rbacother01", cred)))).toMatchObject({
      statusCode: 403,
      code: "AuthorizationPermissionMismatch",
    });
  });

  it("applies the ABAC condition of a subscription-scope assignment", async () => {
    const { appId, spId } = newApp();
    assign(
      spId,
      `/subscriptions/${SUB}`,
      `((!(ActionMatches{'${READ}'})) OR (@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'rbacaudit01'))`,
    );
    const cred = bearer(appId);
    expect(await listNames(client("rbacaudit01", cred))).toHaveLength(1);
    expect(await failure(listNames(client("rbacother01", cred)))).toMatchObject({
      statusCode: 403,
      code: "AuthorizationPermissionMismatch",
    });
    const read = client("rbacother01", cred)
      .getContainerClient("insights-logs-kube-audit")
      .getBlobClient("resourceId=/X/y=2026/PT1H.json")
      .downloadToBuffer();
    expect(await failure(read)).toMatchObject({ statusCode: 403 });
  });

  it("grants nothing through an assignment whose condition it can't parse", async () => {
    const { appId, spId } = newApp();
    assign(spId, `/subscriptions/${SUB}`, `@Resource[Microsoft.Storage/storageAccounts:name] StringLike 'rbac*'`);
    expect(await failure(listNames(client("rbacaudit01", bearer(appId))))).toMatchObject({
      statusCode: 403,
      code: "AuthorizationPermissionMismatch",
    });
  });

  it("refuses a principal without a role, and writes by a reader", async () => {
    const { appId, spId } = newApp();
    expect(await failure(listNames(client("rbacaudit01", bearer(appId))))).toMatchObject({ statusCode: 403 });
    assign(spId, accountId("rbacaudit01"));
    const write = client("rbacaudit01", bearer(appId))
      .getContainerClient("insights-logs-kube-audit")
      .getBlockBlobClient("x.txt")
      .upload("x", 1);
    expect(await failure(write)).toMatchObject({ statusCode: 403, code: "AuthorizationPermissionMismatch" });
  });

  it("answers 401 InvalidAuthenticationInfo to a token for another audience", async () => {
    const { appId, spId } = newApp();
    assign(spId, accountId("rbacaudit01"));
    expect(await failure(listNames(client("rbacaudit01", bearer(appId, "arm"))))).toMatchObject({
      statusCode: 401,
      code: "InvalidAuthenticationInfo",
    });
  });

  it("lets a conditioned subscription-scope reader list containers and get a delegation key on every account (Actions aren't conditioned)", async () => {
    const { appId, spId } = newApp();
    assign(
      spId,
      `/subscriptions/${SUB}`,
      `((!(ActionMatches{'${READ}'})) OR (@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'rbacaudit01'))`,
    );
    const other = client("rbacother01", bearer(appId));
    const names: string[] = [];
    for await (const c of other.listContainers()) names.push(c.name);
    expect(names).toContain("insights-logs-kube-audit");
    const key = await other.getUserDelegationKey(new Date(), new Date(Date.now() + 3_600_000));
    expect(key).toMatchObject({ signedObjectId: spId, signedService: "b" });
  });

  it("refuses container listing and delegation keys outside the account a reader is assigned on", async () => {
    const { appId, spId } = newApp();
    assign(
      spId,
      accountId("rbacaudit01"),
      `((!(ActionMatches{'${READ}'})) OR (@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'rbacaudit01'))`,
    );
    const listing = async (name: string) => {
      const out: string[] = [];
      for await (const c of client(name, bearer(appId)).listContainers()) out.push(c.name);
      return out;
    };
    expect(await listing("rbacaudit01")).toContain("insights-logs-kube-audit");
    expect(await failure(listing("rbacother01"))).toMatchObject({ statusCode: 403, code: "AuthorizationPermissionMismatch" });
    expect(
      await failure(client("rbacother01", bearer(appId)).getUserDelegationKey(new Date(), new Date(Date.now() + 3_600_000))),
    ).toMatchObject({ statusCode: 403 });
  });

  it("keeps Shared Key requests working through the front", async () => {
    expect(await listNames(sharedKey("rbacother01"))).toEqual(["resourceId=/X/y=2026/PT1H.json"]);
  });
});
