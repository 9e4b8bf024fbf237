// A disabled (read-only) subscription: listed on the form but never selectable, never a default account location, and
// refused by run creation with who can re-enable it.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listRunsForTenant, type SessionWithUser } from "../../../lib/db";
import { createOnboardingRun, loadNewRunDefaults } from "../../../lib/onboarding/new-run";
import { SUB_PROD, TENANT } from "../azure/support";
import { signedInSimulator, type SignedInSimulator } from "./signed-in";

const LEGACY = "7d3e9a41-5c2b-4f8e-a1d6-0b9c8e7f6a52";
// simulator/scenarios/disabled-subscription.json, with one more eastus cluster in the disabled subscription: by cluster
// count alone it would be eastus's default account location.
type ScenarioJson = { subscriptions: { id: string; clusters: Record<string, unknown>[] }[] } & Record<string, unknown>;
const scenario = JSON.parse(fs.readFileSync(path.join("simulator", "scenarios", "disabled-subscription.json"), "utf8")) as ScenarioJson;
const legacy = scenario.subscriptions.find((s) => s.id === LEGACY);
legacy?.clusters.push({
  name: "aks-legacy-eastus-2",
  resourceGroup: "rg-aks-legacy-eastus",
  location: "eastus",
  kubernetesVersion: "1.31.9",
});

let env: SignedInSimulator | undefined;
let owner: SessionWithUser;

beforeAll(async () => {
  env = await signedInSimulator("disabled-sub", { scenario });
  ({ owner } = env);
}, 120_000);
afterAll(() => env?.close());

describe("a disabled subscription on the new-onboarding form", () => {
  it("is listed read-only with its clusters, and no region's account defaults to it", async () => {
    const loaded = await loadNewRunDefaults(owner);
    if (!loaded.ok) throw new Error(loaded.message);
    const sub = loaded.data.subscriptions.find((s) => s.id === LEGACY);
    expect(sub).toMatchObject({ state: "Disabled", readOnly: true });
    expect(sub?.clusters.map((c) => c.name)).toEqual(["aks-legacy-eastus", "aks-legacy-eastus-2"]);
    expect(loaded.data.regions.map((r) => r.subscriptionId)).not.toContain(LEGACY);
    expect(loaded.data.regions.map((r) => r.region)).toEqual(["eastus", "westeurope"]);
    // Its clusters' settings are not read: they can't be onboarded from here.
    expect(Object.keys(loaded.data.preflight).some((id) => id.includes(LEGACY))).toBe(false);
  });

  it("refuses a run that includes it, saying who can re-enable it, and creates nothing", async () => {
    const before = (await listRunsForTenant(TENANT, { limit: 50 })).length;
    const result = await createOnboardingRun(owner, {
      subscriptionIds: [SUB_PROD, LEGACY],
      clusterIds: [
        `/subscriptions/${LEGACY}/resourceGroups/rg-aks-legacy-eastus/providers/Microsoft.ContainerService/managedClusters/aks-legacy-eastus`,
      ],
      storage: [{ region: "eastus", subscriptionId: SUB_PROD, resourceGroup: "rg-aks-audit", accountName: "kubeauditlegacy01" }],
      restrictNetwork: false,
      retentionDays: 30,
      secretLifetimeDays: 180,
    });
    expect(result).toMatchObject({ ok: false, fieldErrors: { subscriptionIds: ["read-only subscription"] } });
    expect(result.ok ? "" : result.message).toMatch(/Contoso Legacy is Disabled.*Account Administrator \(the billing owner\)/);
    expect((await listRunsForTenant(TENANT, { limit: 50 })).length).toBe(before);
  });
});
