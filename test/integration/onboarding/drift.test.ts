// Re-check coverage against the simulator: a completed run, new clusters (existing and new region) and a deleted setting,
// extension → plan → engine → clean re-check, with no duplicates, one secret and Workbench told about the new account.
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { confirmRunPlan, getRunForTenant, listAuditChain, setRunStatus, upsertUser, type SessionWithUser } from "../../../lib/db";
import { createRun } from "../../../lib/db/runs";
import { toJsonValue } from "../../../lib/db/json";
import { runRemainingSteps } from "../../../lib/engine/drive-run";
import { STEP_MODULES } from "../../../lib/engine/step-modules";
import { extendCoverage, recheckCoverage } from "../../../lib/onboarding/drift";
import { planStoredRun, type StoredPlan } from "../../../lib/onboarding/plan";
import { customRoleId, roleAssignmentName } from "../../../lib/azure/names";
import { blobReadCondition } from "../../../lib/steps/abac";
import { DIAGNOSTIC_SETTING_NAME } from "../../../lib/steps/diagnostic-settings";
import { STEP_IDS } from "../../../lib/steps/registry";
import { suggestStorageAccountName } from "../../../lib/steps/storage-names";
import type { RunningSimulator } from "../../../simulator/src/index";
import { simJson, simToken, type JsonBody } from "../../../simulator/src/testing";
import { OWNER, setLatency, simState, SUB_DEV, SUB_PROD, TENANT } from "../azure/support";
import { defaultRunConfig } from "../steps/context";
import { FAST_LATENCY, portalFixture, sessionOf } from "../portal-fixture";

let sim: RunningSimulator;
let session: SessionWithUser;
const { tokensOf } = portalFixture(
  "drift",
  { blob: true, latency: FAST_LATENCY, ready: async () => void (session = await sessionOf(OWNER, "Olivia Owner")) },
  (started) => (sim = started),
);
const tokens = tokensOf(OWNER);

const actor = () => ({ userId: session.user.id, upn: OWNER });
const ofType = (state: JsonBody, type: string): JsonBody[] =>
  (state.arm as JsonBody[]).filter((r) => String(r.type).toLowerCase() === type.toLowerCase());
const STORAGE_BLOB_DATA_READER = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";

async function confirmAndDrive(runId: string) {
  expect(await confirmRunPlan(runId, OWNER)).toBe(true);
  expect(await setRunStatus(runId, "running", { from: ["planned"] })).toBe(true);
  const result = await runRemainingSteps({ runId, tenantId: TENANT, actor: actor(), tokens, modules: STEP_MODULES });
  if (result.outcome !== "completed") console.error(JSON.stringify(result, null, 2));
  expect(result).toEqual({ outcome: "completed" });
}

async function addCluster(body: Record<string, unknown>) {
  const r = await simJson(sim, "POST", "/_sim/clusters", { body });
  expect(r.status).toBe(201);
}

describe("re-check coverage and extend a completed run", () => {
  it("finds new clusters and a deleted setting, extends with one new account, and ends clean without duplicates", async () => {
    const config = defaultRunConfig();
    const run = await createRun({
      tenantId: TENANT,
      createdByUserId: session.user.id,
      createdByUpn: OWNER,
      config: toJsonValue(config),
      steps: STEP_IDS,
    });
    expect((await planStoredRun(run.id, TENANT, OWNER, config, tokens)).ok).toBe(true);
    await confirmAndDrive(run.id);

    const clean = await recheckCoverage(session, run.id, tokens);
    expect(clean).toMatchObject({ ok: true, data: { clustersChecked: 4, coveredCount: 4, gaps: [], proposedAccounts: [] } });

    const before = await simState(sim);
    const appBefore = (before.graph.applications as JsonBody[]).find((a) => a.uniqueName === config.vendor.appUniqueName);
    expect(appBefore.passwordCredentials).toHaveLength(1);

    // A new cluster in a region the run covers, one in a region it doesn't, and a setting someone deleted.
    await addCluster({ subscriptionId: SUB_DEV, resourceGroup: "rg-aks-dev-eastus", name: "aks-batch-dev", location: "eastus" });
    await addCluster({
      subscriptionId: SUB_PROD,
      resourceGroup: "rg-aks-prod-northeurope",
      name: "aks-web-prod-neu",
      location: "northeurope",
      createResourceGroup: true,
    });
    const weu = config.clusters.find((c) => c.name === "aks-web-prod-weu");
    const armToken = await simToken(sim, { upn: OWNER, resource: "arm" });
    const deleted = await simJson(
      sim,
      "DELETE",
      `${weu?.id}/providers/Microsoft.Insights/diagnosticSettings/${DIAGNOSTIC_SETTING_NAME}?api-version=2021-05-01-preview`,
      { token: armToken },
    );
    expect(deleted.status).toBe(200);

    const found = await recheckCoverage(session, run.id, tokens);
    if (!found.ok) throw new Error(found.message);
    expect(found.data.clustersChecked).toBe(6);
    expect(found.data.gaps.map((g) => [g.clusterName, g.reason, g.inRun, g.needsNewAccount])).toEqual([
      ["aks-web-prod-weu", "setting-missing", true, false],
      ["aks-batch-dev", "new-cluster", false, false],
      ["aks-web-prod-neu", "new-cluster", false, true],
    ]);
    const neuAccount = suggestStorageAccountName(TENANT, "northeurope");
    expect(found.data.proposedAccounts).toEqual([
      {
        region: "northeurope",
        subscriptionId: SUB_PROD,
        subscriptionName: "Contoso Production",
        resourceGroup: "rg-aks-audit",
        accountName: neuAccount,
        status: "available",
      },
    ]);
    // Re-checking is read-only: nothing was written to Azure.
    expect(ofType(await simState(sim), "Microsoft.Storage/storageAccounts").some((a) => a.name === neuAccount)).toBe(false);

    // Two admins extend at once: exactly one reopens the run; the other is told to reload.
    const keys = found.data.gaps.filter((g) => !g.inRun).map((g) => g.key);
    const secondUser = await upsertUser({
      tenantId: TENANT,
      objectId: crypto.randomUUID(),
      upn: "secops@contoso.onmicrosoft.com",
      displayName: "Sam Secops",
    });
    const second: SessionWithUser = {
      ...session,
      tokenHash: crypto.randomBytes(32).toString("hex"),
      userId: secondUser.id,
      user: secondUser,
    };
    const results = await Promise.all([extendCoverage(session, run.id, keys, tokens), extendCoverage(second, run.id, keys, tokens)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toMatchObject({ ok: false, code: "conflict" });

    const extended = await getRunForTenant(run.id, TENANT);
    expect(extended?.status).toBe("planned");
    expect(extended?.steps.every((s) => s.status === "pending")).toBe(true);
    const plan = extended?.plan as unknown as StoredPlan;
    expect(plan.steps.filter((s) => s.error)).toEqual([]);
    const changed = plan.steps.flatMap((s) =>
      s.changes
        .filter((c) => c.action !== "no-change")
        .map((c) => ({ step: s.stepId, action: c.action, resource: c.resource, details: c.details ?? [] })),
    );
    const byStep = (id: string) => changed.filter((c) => c.step === id);
    expect(byStep("storage").length).toBeGreaterThan(0);
    for (const c of byStep("storage")) expect(`${c.resource} ${c.details.join(" ")}`).toContain(neuAccount);
    expect(
      byStep("diagnostic-settings")
        .map((c) => [c.action, c.resource])
        .sort(),
    ).toEqual([
      ["create", `aks-batch-dev/${DIAGNOSTIC_SETTING_NAME}`],
      ["create", `aks-web-prod-neu/${DIAGNOSTIC_SETTING_NAME}`],
      ["create", `aks-web-prod-weu/${DIAGNOSTIC_SETTING_NAME}`],
    ]);
    expect(byStep("app-registration")).toEqual([]);
    expect(byStep("custom-role")).toEqual([]);
    // Narrow scopes: the AKS role on each added cluster (both have Entra integration), a blob reader on the new account.
    const clusterIdOf = (name: string) => found.data.gaps.find((g) => g.clusterName === name)?.clusterId;
    expect(found.data.gaps.every((g) => g.entraIntegration === true)).toBe(true);
    expect(
      byStep("role-assignments")
        .map((c) => [c.action, c.resource])
        .sort(),
    ).toEqual(
      [
        ["create", `AKS Audit Log Reader (read-only) at ${clusterIdOf("aks-batch-dev")}`],
        ["create", `AKS Audit Log Reader (read-only) at ${clusterIdOf("aks-web-prod-neu")}`],
        [
          "create",
          `Storage Blob Data Reader at /subscriptions/${SUB_PROD}/resourceGroups/rg-aks-audit/providers/Microsoft.Storage/storageAccounts/${neuAccount}`,
        ],
      ].sort(),
    );
    expect(
      byStep("role-assignments")
        .find((c) => c.resource.startsWith("Storage"))
        ?.details.join(" "),
    ).toContain(`StringEquals '${neuAccount}'`);
    expect(byStep("workbench-handoff")).toEqual([expect.objectContaining({ action: "update" })]);

    await confirmAndDrive(run.id);

    const after = await recheckCoverage(session, run.id, tokens);
    expect(after).toMatchObject({ ok: true, data: { clustersChecked: 6, coveredCount: 6, gaps: [] } });
    // A stale selection from before the extension is refused, and changes nothing.
    expect(await extendCoverage(session, run.id, keys, tokens)).toMatchObject({ ok: false, code: "stale" });
    expect((await getRunForTenant(run.id, TENANT))?.status).toBe("completed");

    const state = await simState(sim);
    const ids = (state.arm as JsonBody[]).map((r) => String(r.id).toLowerCase());
    expect(new Set(ids).size).toBe(ids.length);
    const accounts = ofType(state, "Microsoft.Storage/storageAccounts").filter((a) => String(a.name).startsWith("kubeaudit"));
    expect(accounts.map((a) => [a.name, a.location]).sort()).toEqual(
      [...config.storage.map((s) => [s.accountName, s.region]), [neuAccount, "northeurope"]].sort(),
    );
    const ours = ofType(state, "Microsoft.Insights/diagnosticSettings").filter((s) => s.name === DIAGNOSTIC_SETTING_NAME);
    expect(ours).toHaveLength(6);
    const app = (state.graph.applications as JsonBody[]).find((a) => a.uniqueName === config.vendor.appUniqueName);
    expect((state.graph.applications as JsonBody[]).filter((a) => a.uniqueName === config.vendor.appUniqueName)).toHaveLength(1);
    expect(app.passwordCredentials).toHaveLength(1);
    expect(app.passwordCredentials[0].keyId).toBe(appBefore.passwordCredentials[0].keyId);
    const sp = (state.graph.servicePrincipals as JsonBody[]).find((s) => s.appId === app.appId);
    const assignments = ofType(state, "Microsoft.Authorization/roleAssignments").filter((a) => a.properties.principalId === sp.id);
    const triples = assignments.map((a) => `${a.properties.scope}|${a.properties.roleDefinitionId}`.toLowerCase());
    expect(new Set(triples).size).toBe(triples.length);
    const blobReaders = assignments.filter((a) => String(a.properties.roleDefinitionId).toLowerCase().endsWith(STORAGE_BLOB_DATA_READER));
    // One blob reader per audit account, at the account, with that account's condition.
    expect(blobReaders.map((a) => [String(a.properties.scope).toLowerCase(), a.properties.condition]).sort()).toEqual(
      accounts.map((a) => [String(a.id).toLowerCase(), blobReadCondition([String(a.name)])]).sort(),
    );
    expect(state.workbench.devices).toHaveLength(1);
    expect([...state.workbench.devices[0].storage_accounts].sort()).toEqual(accounts.map((a) => String(a.name)).sort());
    expect(state.workbench.devices[0].credentials.client_id).toBe(app.appId);

    const trail = await listAuditChain({ tenantId: TENANT, runId: run.id });
    expect(trail.filter((e) => e.action === "run.coverage_checked")).toHaveLength(3);
    const decisions = trail.filter((e) => e.action === "run.extended");
    expect(decisions).toHaveLength(1);
    expect(decisions[0]?.detail).toMatchObject({
      addedClusters: ["aks-batch-dev", "aks-web-prod-neu"],
      repairedClusters: [{ cluster: "aks-web-prod-weu", reason: "setting-missing" }],
      newStorageAccounts: [neuAccount],
    });
    expect(trail.filter((e) => e.action === "run.completed")).toHaveLength(2);
  }, 240_000);

  it("narrows a run made with the earlier subscription-wide assignments: re-check reports them, Extend plans their removal, the run ends narrow", async () => {
    await sim.reset();
    await setLatency(sim, { lroMs: { storageAccount: 100, providerRegistration: 0 }, replicationMs: 0 });
    const config = defaultRunConfig();
    const run = await createRun({
      tenantId: TENANT,
      createdByUserId: session.user.id,
      createdByUpn: OWNER,
      config: toJsonValue(config),
      steps: STEP_IDS,
    });
    expect((await planStoredRun(run.id, TENANT, OWNER, config, tokens)).ok).toBe(true);
    await confirmAndDrive(run.id);
    const app = ((await simState(sim)).graph.applications as JsonBody[]).find((a) => a.uniqueName === config.vendor.appUniqueName);
    const sp = ((await simState(sim)).graph.servicePrincipals as JsonBody[]).find((x) => x.appId === app.appId);
    // What an earlier version of the portal made, under its deterministic names: the AKS role, the blob reader and Log Analytics Reader on Production.
    const prod = `/subscriptions/${SUB_PROD}`;
    const aksRole = customRoleId(TENANT, "aks-read-only");
    const armToken = await simToken(sim, { upn: OWNER, resource: "arm" });
    const logAnalyticsReader = "73c42c96-874c-492b-b04d-ab87d138a893";
    for (const [guid, condition] of [
      [aksRole, undefined],
      [STORAGE_BLOB_DATA_READER, blobReadCondition(config.storage.map((x) => x.accountName))],
      [logAnalyticsReader, undefined],
    ] as const) {
      const put = await simJson(
        sim,
        "PUT",
        `${prod}/providers/Microsoft.Authorization/roleAssignments/${roleAssignmentName(prod, sp.id, guid)}?api-version=2022-04-01`,
        {
          token: armToken,
          body: {
            properties: {
              roleDefinitionId: `${prod}/providers/Microsoft.Authorization/roleDefinitions/${guid}`,
              principalId: sp.id,
              principalType: "ServicePrincipal",
              ...(condition ? { condition, conditionVersion: "2.0" } : {}),
            },
          },
        },
      );
      expect(put.status).toBe(201);
    }

    const found = await recheckCoverage(session, run.id, tokens);
    if (!found.ok) throw new Error(found.message);
    expect(found.data.gaps).toEqual([]);
    expect(found.data.narrowing).toEqual([
      { roleName: "AKS Audit Log Reader (read-only)", subscriptionName: "Contoso Production" },
      { roleName: "Storage Blob Data Reader", subscriptionName: "Contoso Production" },
      { roleName: "Log Analytics Reader", subscriptionName: "Contoso Production" },
    ]);
    expect(await extendCoverage(session, run.id, [], tokens)).toMatchObject({ ok: true });
    const plan = (await getRunForTenant(run.id, TENANT))?.plan as unknown as StoredPlan;
    const removals = plan.steps.flatMap((x) => x.changes).filter((c) => c.action === "remove");
    expect(removals.map((c) => c.resource)).toEqual([
      `AKS Audit Log Reader (read-only) at ${prod}`,
      `Storage Blob Data Reader at ${prod}`,
      `Log Analytics Reader at ${prod}`,
    ]);
    await confirmAndDrive(run.id);

    const assignments = ofType(await simState(sim), "Microsoft.Authorization/roleAssignments").filter(
      (a) => a.properties.principalId === sp.id,
    );
    // At subscription scope only the Log Analytics query role is left.
    const wide = assignments
      .filter((a) => String(a.properties.scope).toLowerCase() === prod)
      .map((a) => String(a.properties.roleDefinitionId).split("/").pop());
    expect(wide).toEqual([customRoleId(TENANT, "log-analytics-query")]);
    const after = await recheckCoverage(session, run.id, tokens);
    expect(after).toMatchObject({ ok: true, data: { gaps: [], narrowing: [] } });
  }, 240_000);

  it("refuses a re-check of a run that isn't completed, and a run of another tenant", async () => {
    const config = defaultRunConfig();
    const run = await createRun({
      tenantId: TENANT,
      createdByUserId: session.user.id,
      createdByUpn: OWNER,
      config: toJsonValue(config),
      steps: STEP_IDS,
    });
    expect(await recheckCoverage(session, run.id, tokens)).toMatchObject({ ok: false, code: "conflict" });
    expect(await extendCoverage(session, run.id, [], tokens)).toMatchObject({ ok: false, code: "conflict" });
    const outsider = await upsertUser({
      tenantId: crypto.randomUUID(),
      objectId: crypto.randomUUID(),
      upn: "x@fabrikam.example",
      displayName: "X",
    });
    const foreign = { ...session, userId: outsider.id, user: outsider };
    expect(await recheckCoverage(foreign, run.id, tokens)).toMatchObject({ ok: false, code: "forbidden" });
    expect(await extendCoverage(foreign, run.id, [], tokens)).toMatchObject({ ok: false, code: "forbidden" });
  });
});
