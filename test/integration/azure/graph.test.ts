// lib/azure Microsoft Graph operations against the simulated Graph: app registration, service principal, consent, secrets.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addApplicationPassword } from "../../../lib/azure/add-application-password";
import { ensureServicePrincipal } from "../../../lib/azure/ensure-service-principal";
import { classifyAzureError } from "../../../lib/azure/errors";
import { findAppRole } from "../../../lib/azure/find-app-role";
import { getApplicationByUniqueName } from "../../../lib/azure/get-application-by-unique-name";
import { getServicePrincipalByAppId } from "../../../lib/azure/get-service-principal-by-app-id";
import { grantAppRole } from "../../../lib/azure/grant-app-role";
import { LOG_ANALYTICS_DATA_READ } from "../../../lib/azure/graph-ids";
import { listAppRoleAssignments } from "../../../lib/azure/list-app-role-assignments";
import { removeApplicationPassword } from "../../../lib/azure/remove-application-password";
import { upsertApplication, type ApplicationInput } from "../../../lib/azure/upsert-application";
import type { RunningSimulator } from "../../../simulator/src/index";
import {
  azureError,
  clearRequests,
  LOG_ANALYTICS_APP_ID,
  OWNER,
  READER,
  setFaults,
  setLatency,
  simRequests,
  simState,
  startSimForPortal,
  userCredential,
} from "./support";

let sim: RunningSimulator;
const owner = () => userCredential(sim, OWNER, "graph");
const reader = () => userCredential(sim, READER, "graph");
let dataReadRoleId = "";

function appInput(uniqueName: string, displayName = "Vendor AKS audit reader"): ApplicationInput {
  return { uniqueName, displayName, requiredAppRoles: [{ resourceAppId: LOG_ANALYTICS_APP_ID, appRoleIds: [dataReadRoleId] }] };
}

beforeAll(async () => {
  sim = await startSimForPortal();
});
afterAll(async () => sim.close());

describe("Log Analytics API service principal", () => {
  it("is found by appId with its app roles; Data.Read is resolved at runtime", async () => {
    const la = await getServicePrincipalByAppId(owner(), LOG_ANALYTICS_APP_ID);
    expect(la?.appId).toBe(LOG_ANALYTICS_APP_ID);
    const role = findAppRole(la?.appRoles ?? [], LOG_ANALYTICS_DATA_READ);
    expect(role?.id).toBe("e8f6e161-84d0-4cd7-9441-2d46ec9ec3d5");
    dataReadRoleId = role?.id ?? "";
    const ensured = await ensureServicePrincipal(owner(), LOG_ANALYTICS_APP_ID);
    expect(ensured).toEqual({ servicePrincipal: la, created: false });
  });

  it("answers null for an app without a service principal here", async () => {
    expect(await getServicePrincipalByAppId(owner(), "00000000-0000-0000-0000-0000000000aa")).toBeNull();
  });
});

describe("app registration", () => {
  it("creates the app on the first upsert and updates the same object afterwards", async () => {
    expect(await getApplicationByUniqueName(owner(), "vendor-aks-audit")).toBeNull();
    await clearRequests(sim);
    const created = await upsertApplication(owner(), appInput("vendor-aks-audit"));
    expect(created).toMatchObject({ displayName: "Vendor AKS audit reader", uniqueName: "vendor-aks-audit" });
    const updated = await upsertApplication(owner(), appInput("vendor-aks-audit", "Vendor AKS audit reader (renamed)"));
    expect(updated).toEqual({ ...created, displayName: "Vendor AKS audit reader (renamed)" });
    expect(await getApplicationByUniqueName(owner(), "vendor-aks-audit")).toEqual(updated);

    const apps = ((await simState(sim)).graph.applications as { uniqueName: string; requiredResourceAccess: unknown }[]).filter(
      (a) => a.uniqueName === "vendor-aks-audit",
    );
    expect(apps).toHaveLength(1);
    expect(apps[0]?.requiredResourceAccess).toEqual([
      { resourceAppId: LOG_ANALYTICS_APP_ID, resourceAccess: [{ id: dataReadRoleId, type: "Role" }] },
    ]);
    const patches = (await simRequests(sim)).filter((r) => r.method === "PATCH");
    expect(patches.map((r) => r.status)).toEqual([201, 204]);
  });

  it("tells an admin without Application.ReadWrite.All what is missing", async () => {
    const limited = userCredential(sim, OWNER, "graph", ["User.Read"]);
    const error = await azureError(upsertApplication(limited, appInput("vendor-limited")));
    expect(error).toMatchObject({ code: "forbidden", azureCode: "Authorization_RequestDenied", status: 403 });
    expect(error.message).toContain("Application.ReadWrite.All");
  });
});

describe("service principal", () => {
  it("classifies NoBackingApplicationObject right after the app's creation as replication, then succeeds once replicated", async () => {
    // A window far longer than the two calls take under CI load; closing it below makes the app replicated at once.
    await setLatency(sim, { replicationMs: 60_000 });
    const app = await upsertApplication(owner(), appInput("vendor-replication"));
    const error = await azureError(ensureServicePrincipal(owner(), app.appId));
    expect(error).toMatchObject({ code: "application_not_replicated", azureCode: "NoBackingApplicationObject", status: 400 });
    expect(classifyAzureError(error)).toBe("replication");
    await setLatency(sim, { replicationMs: 0 });
    const ensured = await ensureServicePrincipal(owner(), app.appId);
    expect(ensured.created).toBe(true);
    expect(ensured.servicePrincipal.appId).toBe(app.appId);
  });

  it("classifies an injected NoBackingApplicationObject fault the same way", async () => {
    const app = await upsertApplication(owner(), appInput("vendor-fault"));
    await setFaults(sim, { rate: 1, kinds: ["NoBackingApplicationObject"], seed: 7 });
    try {
      const error = await azureError(ensureServicePrincipal(owner(), app.appId));
      expect(classifyAzureError(error)).toBe("replication");
    } finally {
      await setFaults(sim, { rate: 0 });
    }
  });

  it("creates the service principal once and adopts it on re-runs", async () => {
    const app = (await getApplicationByUniqueName(owner(), "vendor-aks-audit"))!;
    const first = await ensureServicePrincipal(owner(), app.appId);
    const second = await ensureServicePrincipal(owner(), app.appId);
    expect(first.created).toBe(true);
    expect(second).toEqual({ servicePrincipal: first.servicePrincipal, created: false });
    const sps = ((await simState(sim)).graph.servicePrincipals as { appId: string }[]).filter((s) => s.appId === app.appId);
    expect(sps).toHaveLength(1);
  });
});

describe("admin consent (app role grant)", () => {
  it("grants Data.Read once; a repeated grant is verified and returned, not duplicated", async () => {
    const app = (await getApplicationByUniqueName(owner(), "vendor-aks-audit"))!;
    const sp = (await getServicePrincipalByAppId(owner(), app.appId))!;
    const la = (await getServicePrincipalByAppId(owner(), LOG_ANALYTICS_APP_ID))!;
    const input = { resourceServicePrincipalId: la.id, principalId: sp.id, appRoleId: dataReadRoleId };
    const granted = await grantAppRole(owner(), input);
    expect(granted).toMatchObject({ principalId: sp.id, resourceId: la.id, appRoleId: dataReadRoleId, principalType: "ServicePrincipal" });

    await clearRequests(sim);
    const again = await grantAppRole(owner(), input);
    expect(again).toEqual(granted);
    const calls = (await simRequests(sim)).map((r) => `${r.method} ${r.status}`);
    expect(calls).toEqual(["POST 400", "GET 200"]);
    expect((await listAppRoleAssignments(owner(), la.id)).filter((a) => a.principalId === sp.id)).toEqual([granted]);
    expect(await listAppRoleAssignments(owner(), sp.id, "principal")).toEqual([granted]);
    expect(
      ((await simState(sim)).graph.appRoleAssignments as { principalId: string }[]).filter((a) => a.principalId === sp.id),
    ).toHaveLength(1);
  });

  it("tells a user without a consent-capable directory role which role it needs", async () => {
    const app = (await getApplicationByUniqueName(owner(), "vendor-aks-audit"))!;
    const sp = (await getServicePrincipalByAppId(owner(), app.appId))!;
    const la = (await getServicePrincipalByAppId(owner(), LOG_ANALYTICS_APP_ID))!;
    const error = await azureError(
      grantAppRole(reader(), { resourceServicePrincipalId: la.id, principalId: sp.id, appRoleId: dataReadRoleId }),
    );
    expect(error).toMatchObject({ code: "forbidden", azureCode: "Authorization_RequestDenied" });
    expect(error.message).toContain("Cloud Application Administrator");
    expect(error.message).toContain("Global Administrator");
  });
});

describe("client secrets", () => {
  it("adds a secret with the requested lifetime, never exposed in the simulator's state, and removes it idempotently", async () => {
    const app = (await getApplicationByUniqueName(owner(), "vendor-aks-audit"))!;
    const before = Date.now();
    const secret = await addApplicationPassword(owner(), app.id, { displayName: "vendor workbench", lifetimeDays: 180 });
    expect(secret.secretText.length).toBeGreaterThanOrEqual(30);
    expect(secret.hint).toBe(secret.secretText.slice(0, 3));
    const end = Date.parse(secret.endDateTime);
    expect(end - before).toBeGreaterThanOrEqual(180 * 86_400_000 - 60_000);
    expect(end - before).toBeLessThanOrEqual(180 * 86_400_000 + 60_000);

    const stored = (
      (await simState(sim)).graph.applications as { id: string; passwordCredentials: { keyId: string; displayName: string }[] }[]
    ).find((a) => a.id === app.id);
    expect(stored?.passwordCredentials).toEqual([expect.objectContaining({ keyId: secret.keyId, displayName: "vendor workbench" })]);
    expect(JSON.stringify(await simState(sim))).not.toContain(secret.secretText);

    await removeApplicationPassword(owner(), app.id, secret.keyId);
    await removeApplicationPassword(owner(), app.id, secret.keyId);
    const after = ((await simState(sim)).graph.applications as { id: string; passwordCredentials: unknown[] }[]).find(
      (a) => a.id === app.id,
    );
    expect(after?.passwordCredentials).toEqual([]);
  });
});

describe("throttling", () => {
  it("surfaces Graph 429s that outlast graph-client's retries as throttled, a transient error", async () => {
    await setFaults(sim, { rate: 1, kinds: ["429"], seed: 9 });
    try {
      const error = await azureError(getApplicationByUniqueName(owner(), "vendor-aks-audit"));
      expect(error).toMatchObject({ code: "throttled", status: 429 });
      expect(classifyAzureError(error)).toBe("transient");
    } finally {
      await setFaults(sim, { rate: 0 });
    }
  });
});
