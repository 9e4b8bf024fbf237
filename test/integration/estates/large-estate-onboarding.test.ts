// A tenant of 150 subscriptions (large-estate-150.json, every list paged): the admin picks three subscriptions that only
// later pages list, and the whole run onboards them, reading role assignments one page at a time.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { confirmRunPlan, getRunForTenant, setRunStatus, type SessionWithUser } from "../../../lib/db";
import { runRemainingSteps } from "../../../lib/engine/drive-run";
import { STEP_MODULES } from "../../../lib/engine/step-modules";
import type { TokenProvider } from "../../../lib/auth/tokens";
import { createOnboardingRun, loadNewRunDefaults } from "../../../lib/onboarding/new-run";
import { newRunSchema } from "../../../lib/onboarding/schemas";
import { DIAGNOSTIC_SETTING_NAME } from "../../../lib/steps/diagnostic-settings";
import { STEP_IDS } from "../../../lib/steps/registry";
import { loadScenario } from "../../../simulator/src/index";
import { simToken, TEST_WORKBENCH_KEY, type JsonBody } from "../../../simulator/src/testing";
import { OWNER, setLatency, simRequests, simState, TENANT } from "../azure/support";
import { signedInSimulator, type SignedInSimulator } from "../onboarding/signed-in";

const SCENARIO_FILE = path.join("simulator", "scenarios", "large-estate-150.json");
const scenario = loadScenario(SCENARIO_FILE);
// Subscriptions 121, 140 and 150 of the list: none of them is on the first page of 50.
const PICKED = [120, 139, 149].map((i) => scenario.subscriptions[i]).filter((s) => s !== undefined);
let env: SignedInSimulator | undefined;
let owner: SessionWithUser;

beforeAll(async () => {
  env = await signedInSimulator("large-onboarding", { scenario: SCENARIO_FILE, blob: true });
  process.env.WORKBENCH_URL = `${env.sim.url}/workbench`;
  process.env.WORKBENCH_API_KEY = TEST_WORKBENCH_KEY;
  await setLatency(env.sim, { lroMs: { storageAccount: 100, providerRegistration: 0 }, replicationMs: 0 });
  ({ owner } = env);
}, 180_000);
afterAll(() => env?.close());

const ofType = (state: JsonBody, type: string): JsonBody[] =>
  (state.arm as JsonBody[]).filter((r) => String(r.type).toLowerCase() === type.toLowerCase());

describe("onboarding in a tenant of 150 subscriptions", () => {
  it("onboards clusters of subscriptions listed only on later pages, end to end", async () => {
    const sim = env!.sim;
    expect(PICKED).toHaveLength(3);
    const loaded = await loadNewRunDefaults(owner);
    if (!loaded.ok) throw new Error(loaded.message);
    const picked = new Set(PICKED.map((s) => s.id));
    const subscriptions = loaded.data.subscriptions.filter((s) => picked.has(s.id));
    expect(subscriptions.map((s) => s.displayName).sort()).toEqual(PICKED.map((s) => s.displayName).sort());
    const clusters = subscriptions.flatMap((s) => s.clusters);
    expect(clusters).toHaveLength(PICKED.reduce((n, s) => n + s.clusters.length, 0));
    const regions = new Set(clusters.map((c) => c.location));
    // The form's defaults put each region's account where it is easiest; here the admin keeps it in a picked subscription.
    const storage = loaded.data.regions
      .filter((r) => regions.has(r.region))
      .map((r) => ({
        ...r,
        subscriptionId: subscriptions.find((s) => s.clusters.some((c) => c.location === r.region))?.id ?? r.subscriptionId,
      }));

    const created = await createOnboardingRun(
      owner,
      newRunSchema.parse({
        subscriptionIds: [...picked],
        clusterIds: clusters.map((c) => c.id),
        storage,
        restrictNetwork: false,
        retentionDays: 30,
        secretLifetimeDays: 180,
      }),
    );
    if (!created.ok) throw new Error(`${created.message} ${JSON.stringify(created.fieldErrors)}`);
    const runId = created.data.runId;
    expect(await confirmRunPlan(runId, OWNER)).toBe(true);
    expect(await setRunStatus(runId, "running", { from: ["planned"] })).toBe(true);
    const tokens: TokenProvider = async (resource) => ({
      ok: true,
      token: await simToken(sim, { upn: OWNER, resource }),
      expiresOn: new Date(Date.now() + 3_600_000),
    });
    const since = new Date().toISOString();
    const result = await runRemainingSteps({
      runId,
      tenantId: TENANT,
      actor: { userId: owner.user.id, upn: OWNER },
      tokens,
      modules: STEP_MODULES,
    });
    expect(result.outcome).toBe("completed");
    const run = await getRunForTenant(runId, TENANT);
    expect(run?.steps.map((s) => s.status)).toEqual(STEP_IDS.map(() => "done"));

    // Every picked cluster sends kube-audit; no other cluster of the tenant got a setting.
    const state = await simState(sim);
    const settings = ofType(state, "Microsoft.Insights/diagnosticSettings").filter((s) => s.name === DIAGNOSTIC_SETTING_NAME);
    const clusterOf = (s: JsonBody) => String(s.id).split("/providers/Microsoft.Insights/")[0]?.toLowerCase();
    expect(settings.map(clusterOf).sort()).toEqual(clusters.map((c) => c.id.toLowerCase()).sort());
    expect(
      ofType(state, "Microsoft.Storage/storageAccounts")
        .map((a) => String(a.location))
        .sort(),
    ).toEqual([...regions].sort());
    // The run's role-assignment reads walked the simulator's one-per-page lists.
    const paged = (await simRequests(sim, since)).filter(
      (r) => r.url.toLowerCase().includes("/roleassignments") && r.url.toLowerCase().includes("skiptoken"),
    );
    expect(paged.length).toBeGreaterThan(0);
  }, 240_000);
});
