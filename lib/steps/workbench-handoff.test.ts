import type { TokenCredential } from "@azure/core-auth";
import { describe, expect, it, vi } from "vitest";
import type { RunConfig } from "./config";
import type { StepContext } from "./types";
import { workbenchHandoffStep } from "./workbench-handoff";

// No WORKBENCH_URL configured: the hand-off is manual.
vi.mock("@/lib/workbench/client", () => ({ workbenchConfig: () => null }));

const config = {
  tenantId: "55555555-5555-4555-8555-555555555555",
  subscriptions: [{ id: "11111111-1111-4111-8111-111111111111", displayName: "A" }],
  clusters: [],
  storage: [],
  options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 90 },
  vendor: { name: "Expel", appUniqueName: "vendor-app", appDisplayName: "Vendor app", egressIps: [] },
} satisfies RunConfig;

function context(): { ctx: StepContext; deleted: string[] } {
  const deleted: string[] = [];
  const ctx = {
    runId: "run-1",
    tenantId: config.tenantId,
    config,
    arm: {} as TokenCredential,
    graph: {} as TokenCredential,
    outputs: {},
    write: () => Promise.reject(new Error("manual mode must not write")),
    progress: () => Promise.resolve(),
    secrets: {
      get: () => Promise.resolve(null),
      put: () => Promise.resolve(),
      delete: (kind: string) => {
        deleted.push(kind);
        return Promise.resolve();
      },
    },
  } as unknown as StepContext;
  return { ctx, deleted };
}

describe("workbench-handoff without a Workbench API", () => {
  it("plans a manual hand-off and applies without writing or deleting the secret", async () => {
    const { ctx, deleted } = context();
    const live = await workbenchHandoffStep.read(ctx);
    expect(live).toEqual({ mode: "manual" });
    expect(workbenchHandoffStep.plan(ctx, live)).toEqual([
      expect.objectContaining({
        action: "no-change",
        key: "workbench-handoff.manual",
        why: expect.stringContaining("no Workbench API configured"),
      }),
    ]);
    expect(await workbenchHandoffStep.apply(ctx, live)).toEqual({ mode: "manual" });
    expect(deleted).toEqual([]);
    expect(await workbenchHandoffStep.verify(ctx, { mode: "manual" })).toMatchObject({ ok: true });
  });
});

describe("workbench-handoff plan with a Workbench API", () => {
  const live = { mode: "api" as const, deviceName: "aks-onboarding run-1", existing: null, secretStored: false };

  it("plans to send the secret App registration will create in this run", () => {
    const { ctx } = context();
    const [line] = workbenchHandoffStep.plan(ctx, live);
    expect(line).toMatchObject({ action: "create", why: expect.stringContaining("Sends the tenant id, client id, client secret") });
  });

  it("warns when App registration already ran but the secret is gone", () => {
    const { ctx } = context();
    ctx.outputs["app-registration"] = { appId: "a", secret: null };
    const [line] = workbenchHandoffStep.plan(ctx, live);
    expect(line?.why).toContain("no longer stored");
  });
});

describe("workbench-handoff plan of an extended run", () => {
  const storage = (region: string, accountName: string) => ({
    region,
    subscriptionId: "11111111-1111-4111-8111-111111111111",
    resourceGroup: "rg-aks-audit",
    createResourceGroup: true,
    accountName,
    adopt: false,
  });
  const device = (storageAccounts: string[]) => ({
    id: "d1",
    name: "aks-onboarding run-1",
    deviceType: "Azure Kubernetes Service",
    tenantId: config.tenantId,
    clientId: "c",
    storageAccounts,
    status: "healthy",
  });

  it("updates the registered device's storage accounts without a new secret, and changes nothing when they match", () => {
    const { ctx } = context();
    ctx.config = { ...config, storage: [storage("eastus", "auditeus"), storage("northeurope", "auditneu")] };
    const [update] = workbenchHandoffStep.plan(ctx, {
      mode: "api",
      deviceName: "aks-onboarding run-1",
      existing: device(["auditeus"]),
      secretStored: false,
    });
    expect(update).toMatchObject({
      action: "update",
      details: ["storage_accounts: auditeus → auditeus, auditneu"],
      why: expect.stringContaining("stays as it is"),
    });
    const [same] = workbenchHandoffStep.plan(ctx, {
      mode: "api",
      deviceName: "aks-onboarding run-1",
      existing: device(["auditneu", "auditeus"]),
      secretStored: false,
    });
    expect(same).toMatchObject({ action: "no-change" });
  });
});
