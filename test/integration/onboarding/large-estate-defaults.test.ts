// The new-onboarding form's defaults on a tenant of 150 subscriptions and 450 clusters (large-estate-150.json): every
// shown cluster gets its diagnostic-settings preflight and every region a default account, through nextLink paging.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SessionWithUser } from "../../../lib/db";
import { loadNewRunDefaults } from "../../../lib/onboarding/new-run";
import { loadScenario } from "../../../simulator/src/index";
import { signedInSimulator, type SignedInSimulator } from "./signed-in";

const SCENARIO_FILE = path.join("simulator", "scenarios", "large-estate-150.json");
const scenario = loadScenario(SCENARIO_FILE);
let env: SignedInSimulator | undefined;
let owner: SessionWithUser;

beforeAll(async () => {
  env = await signedInSimulator("large-defaults", { scenario: SCENARIO_FILE });
  ({ owner } = env);
}, 120_000);
afterAll(() => env?.close());

describe("new-onboarding defaults on 150 subscriptions", () => {
  it("reads every cluster's settings and every subscription's readiness, and defaults every region", async () => {
    const started = Date.now();
    const loaded = await loadNewRunDefaults(owner);
    console.log(`new-onboarding defaults for 150 subscriptions / 450 clusters: ${Date.now() - started} ms`);
    if (!loaded.ok) throw new Error(loaded.message);
    const clusters = scenario.subscriptions.flatMap((s) =>
      s.clusters.map((c) =>
        `/subscriptions/${s.id}/resourcegroups/${c.resourceGroup}/providers/microsoft.containerservice/managedclusters/${c.name}`.toLowerCase(),
      ),
    );
    expect(Object.keys(loaded.data.preflight).sort()).toEqual(clusters.sort());
    expect(Object.values(loaded.data.preflight).every((p) => p.settingsCount !== null)).toBe(true);
    expect(
      loaded.data.subscriptions
        .filter((s) => s.clusters.length > 0)
        .every((s) => s.storageRegistered !== null && s.canCreateStorage !== null),
    ).toBe(true);
    const regions = new Set(scenario.subscriptions.flatMap((s) => s.clusters.map((c) => c.location)));
    expect(loaded.data.regions.map((r) => r.region).sort()).toEqual([...regions].sort());
  }, 120_000);
});
