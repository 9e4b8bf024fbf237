import { describe, expect, it } from "vitest";
import { AzureOperationError } from "@/lib/azure/errors";
import type { DiagnosticSetting } from "@/lib/azure/list-diagnostic-settings";
import type { RunConfig } from "./config";
import {
  attentionOf,
  DIAGNOSTIC_SETTING_NAME,
  diagnosticSettingsStep,
  limitBlock,
  NoClusterConfiguredError,
  storageAccountIdForCluster,
  type DiagnosticSettingsLive,
} from "./diagnostic-settings";
import type { StorageOutput } from "./storage";
import type { StepContext } from "./types";

const SUB = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const clusterOf = (name: string, location: string) => ({
  id: `/subscriptions/${SUB}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/${name}`,
  name,
  subscriptionId: SUB,
  resourceGroup: "rg-aks",
  location,
});
const EUS = clusterOf("aks-eus", "eastus");
const WEU = clusterOf("aks-weu", "westeurope");
const account = (name: string) => `/subscriptions/${SUB}/resourceGroups/rg-audit/providers/Microsoft.Storage/storageAccounts/${name}`;

const config: RunConfig = {
  tenantId: "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc",
  subscriptions: [{ id: SUB, displayName: "Prod" }],
  clusters: [EUS, WEU],
  storage: [
    { region: "eastus", subscriptionId: SUB, resourceGroup: "rg-audit", createResourceGroup: true, accountName: "auditeus", adopt: false },
    {
      region: "westeurope",
      subscriptionId: SUB,
      resourceGroup: "rg-audit",
      createResourceGroup: true,
      accountName: "auditweu",
      adopt: false,
    },
  ],
  options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180 },
  vendor: { name: "Vendor", appUniqueName: "vendor-reader", appDisplayName: "Vendor reader", egressIps: [] },
};

/** plan() is pure: a context whose Azure surface throws proves it. */
const ctx = (() => {
  const fail = () => {
    throw new Error("plan must not call Azure");
  };
  return {
    runId: "r",
    tenantId: config.tenantId,
    actorUpn: "a@b",
    config,
    arm: { getToken: fail },
    graph: { getToken: fail },
    outputs: {},
    write: fail,
    progress: fail,
    wroteBefore: fail,
    secrets: { put: fail, get: fail, delete: fail },
  } satisfies StepContext;
})();

const setting = (name: string, storageAccountId: string | null, categories: string[]): DiagnosticSetting => ({
  name,
  storageAccountId,
  workspaceId: storageAccountId ? null : "/subscriptions/x/workspaces/law",
  eventHubAuthorizationRuleId: null,
  enabledCategories: categories,
});

function live(
  eus: DiagnosticSetting[],
  weu: DiagnosticSetting[] = [setting(DIAGNOSTIC_SETTING_NAME, account("auditweu"), ["kube-audit"])],
): DiagnosticSettingsLive {
  return {
    clusters: [
      { cluster: EUS, storageAccountId: account("auditeus"), settings: eus },
      { cluster: WEU, storageAccountId: account("auditweu"), settings: weu },
    ],
  };
}

describe("diagnostic-settings plan", () => {
  it("creates our kube-audit setting where none exists", () => {
    const [line] = diagnosticSettingsStep.plan(ctx, live([setting("to-law", null, ["kube-apiserver"])]));
    expect(line).toEqual({
      stepId: "diagnostic-settings",
      key: `diagnostic-settings.setting:${EUS.id}/providers/Microsoft.Insights/diagnosticSettings/${DIAGNOSTIC_SETTING_NAME}`,
      action: "create",
      resourceType: "Diagnostic setting",
      resource: `aks-eus/${DIAGNOSTIC_SETTING_NAME}`,
      why: "Sends the cluster's kube-audit log to auditeus in eastus, where the vendor reads it",
      details: ["logs: kube-audit only", `storageAccountId: ${account("auditeus")}`, "settings on the cluster: 1 of 5"],
    });
  });

  it("plans no change when our setting already sends kube-audit to the right account", () => {
    const plan = diagnosticSettingsStep.plan(
      ctx,
      live([setting(DIAGNOSTIC_SETTING_NAME, account("auditeus").toUpperCase(), ["kube-audit"])]),
    );
    expect(plan.map((l) => l.action)).toEqual(["no-change", "no-change"]);
  });

  it("adopts the customer's setting that already sends kube-audit to the same account", () => {
    const [line] = diagnosticSettingsStep.plan(ctx, live([setting("theirs", account("auditeus"), ["kube-audit", "guard"])]));
    expect(line).toMatchObject({ action: "adopt", resource: "aks-eus/theirs" });
    expect(line?.why).toContain("Azure allows only one setting per category and destination");
  });

  it("does not adopt kube-audit-admin or another account: it creates ours", () => {
    const plan = diagnosticSettingsStep.plan(
      ctx,
      live([setting("admin-only", account("auditeus"), ["kube-audit-admin"]), setting("elsewhere", account("other"), ["kube-audit"])]),
    );
    expect(plan[0]?.action).toBe("create");
  });

  it("updates our setting when it points at another account", () => {
    const [line] = diagnosticSettingsStep.plan(ctx, live([setting(DIAGNOSTIC_SETTING_NAME, account("old"), ["kube-audit"])]));
    expect(line).toMatchObject({ action: "update", details: [`storageAccountId: ${account("old")} → ${account("auditeus")}`] });
  });

  it("flags a cluster at the 5-settings limit with why and what to do, without blocking the others", () => {
    const full = [1, 2, 3, 4, 5].map((n) => setting(`other-${n}`, null, ["kube-apiserver"]));
    const plan = diagnosticSettingsStep.plan(ctx, live(full, []));
    expect(plan[0]).toMatchObject({
      why: `Blocked: ${limitBlock(EUS).reason}`,
      details: ["settings on the cluster: 5 of 5"],
      attention: {
        kind: "cluster",
        subject: "aks-eus",
        resourceId: EUS.id,
        code: "diagnostic_settings_limit",
        reason: limitBlock(EUS).reason,
      },
    });
    expect(plan[0]?.attention?.action).toMatch(/re-read Azure, or leave it out/);
    expect(plan[1]).toMatchObject({ action: "create", details: expect.arrayContaining(["settings on the cluster: 0 of 5"]) as unknown });
    expect(plan[1]?.attention).toBeUndefined();
  });

  it("flags a cluster Azure no longer finds", () => {
    const plan = diagnosticSettingsStep.plan(ctx, {
      clusters: [{ cluster: EUS, storageAccountId: account("auditeus"), settings: [], gone: true }],
    });
    expect(plan[0]?.attention).toMatchObject({ code: "cluster_gone", subject: "aks-eus" });
  });
});

describe("diagnostic-settings apply with a blocked cluster", () => {
  const full = [1, 2, 3, 4, 5].map((n) => setting(`other-${n}`, null, ["kube-apiserver"]));
  const applyCtx: StepContext = { ...ctx, progress: () => Promise.resolve() };

  it("finishes with the others done and the blocked cluster as the step's exception", async () => {
    const out = await diagnosticSettingsStep.apply(applyCtx, live(full));
    expect(out.settings.map((s) => s.clusterName)).toEqual(["aks-weu"]);
    expect(out.blocked).toEqual([limitBlock(EUS)]);
    expect(limitBlock(EUS)).toMatchObject({ clusterId: EUS.id, clusterName: "aks-eus", code: "diagnostic_settings_limit" });
    expect(limitBlock(EUS).action).toContain("Re-check coverage on the run page and Extend the run");
    expect(attentionOf(out)).toEqual([
      {
        kind: "cluster",
        subject: "aks-eus",
        resourceId: EUS.id,
        code: "diagnostic_settings_limit",
        reason: limitBlock(EUS).reason,
        action: limitBlock(EUS).action,
      },
    ]);
  });

  it("fails when every cluster is blocked: there is nothing to onboard", async () => {
    const error = await diagnosticSettingsStep.apply(applyCtx, live(full, full)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoClusterConfiguredError);
    expect(error).toMatchObject({
      code: "diagnostic_settings_limit",
      output: { settings: [], blocked: [limitBlock(EUS), limitBlock(WEU)] },
    });
    expect((error as Error).message).toMatch(
      /^No selected cluster can send its kube-audit log, so there is nothing to onboard\. aks-eus: It already has 5/,
    );
  });

  it("has nothing to say when every cluster is done", async () => {
    const ok = [setting(DIAGNOSTIC_SETTING_NAME, account("auditeus"), ["kube-audit"])];
    const out = await diagnosticSettingsStep.apply(applyCtx, live(ok));
    expect(out.blocked).toEqual([]);
    expect(attentionOf(out)).toEqual([]);
  });
});

describe("storageAccountIdForCluster", () => {
  it("prefers the storage step's output, else derives the id from the config", () => {
    const output: StorageOutput = {
      accounts: [
        {
          region: "EastUS",
          subscriptionId: SUB,
          resourceGroup: "rg-x",
          name: "adopted1",
          id: account("adopted1"),
          blobEndpoint: "https://adopted1.blob.core.windows.net/",
          adopted: true,
        },
      ],
    };
    expect(storageAccountIdForCluster(config, { storage: output }, EUS)).toBe(account("adopted1"));
    expect(storageAccountIdForCluster(config, { storage: output }, WEU)).toBe(account("auditweu"));
    expect(storageAccountIdForCluster(config, {}, EUS)).toBe(account("auditeus"));
  });
});

describe("diagnostic-settings apply: which write failures are a cluster's exception", () => {
  const refusing = (error: AzureOperationError): StepContext => ({
    ...ctx,
    progress: () => Promise.resolve(),
    write: () => Promise.reject(error),
  });
  // aks-eus needs a setting (the write fails), aks-weu is done already.
  const needsWrite = () => live([]);

  it("a deny policy on the cluster's setting: blocked with the policy in words, the others finish", async () => {
    const denied = new AzureOperationError(
      "policy_denied",
      "Azure Policy assignment 'deny-diag' denies diagnostic settings here.",
      "RequestDisallowedByPolicy",
      403,
    );
    const out = await diagnosticSettingsStep.apply(refusing(denied), needsWrite());
    expect(out.settings.map((s) => s.clusterName)).toEqual(["aks-weu"]);
    expect(out.blocked).toEqual([
      expect.objectContaining({
        clusterName: "aks-eus",
        code: "policy_denied",
        reason: expect.stringContaining("Azure Policy assignment 'deny-diag'") as unknown,
        action: expect.stringContaining("exemption") as unknown,
      }),
    ]);
  });

  it("the cluster deleted mid-run: blocked as gone", async () => {
    const gone = new AzureOperationError("not_found", "Azure could not find it.", "ResourceNotFound", 404);
    const out = await diagnosticSettingsStep.apply(refusing(gone), needsWrite());
    expect(out.blocked.map((b) => `${b.clusterName} ${b.code}`)).toEqual(["aks-eus cluster_gone"]);
  });

  it("throttling, missing permissions and sign-in still fail the step as before", async () => {
    for (const error of [
      new AzureOperationError("throttled", "Azure is throttling requests.", "TooManyRequests", 429),
      new AzureOperationError("forbidden", "You don't have permission.", "AuthorizationFailed", 403),
      new AzureOperationError("reauth_required", "Sign in again.", "ExpiredAuthenticationToken", 401),
    ]) {
      await expect(diagnosticSettingsStep.apply(refusing(error), needsWrite())).rejects.toBe(error);
    }
  });
});
