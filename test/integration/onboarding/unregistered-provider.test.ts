// An estate whose AKS subscriptions never registered Microsoft.Storage: the form's defaults load without errors, names are
// checked after registration (never a dead end), the run is created and planned with the defaults, and it completes.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { confirmRunPlan, getRunForTenant, setRunStatus, type SessionWithUser } from "../../../lib/db";
import { runRemainingSteps } from "../../../lib/engine/drive-run";
import { STEP_MODULES } from "../../../lib/engine/step-modules";
import type { TokenProvider } from "../../../lib/auth/tokens";
import { checkStorageName, createOnboardingRun, DEFERRED_NAME_MESSAGE, loadNewRunDefaults } from "../../../lib/onboarding/new-run";
import type { StoredPlan } from "../../../lib/onboarding/plan";
import { newRunSchema } from "../../../lib/onboarding/schemas";
import type { RunConfig } from "../../../lib/steps/config";
import { STEP_IDS } from "../../../lib/steps/registry";
import type { RunningSimulator } from "../../../simulator/src/index";
import { AzureOperationError } from "../../../lib/azure/errors";
import { storageStep } from "../../../lib/steps/storage";
import { suggestStorageAccountName } from "../../../lib/steps/storage-names";
import { simJson, simToken, TEST_WORKBENCH_KEY } from "../../../simulator/src/testing";
import { defaultRunConfig, testStepContext } from "../steps/context";
import { OWNER, simRequests, simState, SUB_DEV, SUB_PROD, TENANT } from "../azure/support";
import { signedInSimulator, type SignedInSimulator } from "./signed-in";

// AKS-only subscriptions: the default Contoso estate with Microsoft.Storage registered nowhere
// (simulator/scenarios/unregistered-storage.json describes the same estate).
type ScenarioJson = { subscriptions: { registeredProviders: string[] }[] } & Record<string, unknown>;
const scenario = JSON.parse(fs.readFileSync(path.join("simulator", "scenarios", "default.json"), "utf8")) as ScenarioJson;
for (const s of scenario.subscriptions) s.registeredProviders = s.registeredProviders.filter((p) => p !== "Microsoft.Storage");

let env: SignedInSimulator | undefined;
let sim: RunningSimulator;
let owner: SessionWithUser;

beforeAll(async () => {
  // Azurite: Verification lists and reads the audit blobs as the app.
  env = await signedInSimulator("unregistered", { blob: true, scenario });
  ({ sim, owner } = env);
  process.env.WORKBENCH_URL = `${sim.url}/workbench`;
  process.env.WORKBENCH_API_KEY = TEST_WORKBENCH_KEY;
}, 180_000);
afterAll(() => env?.close());

const tokens: TokenProvider = async (resource) => ({
  ok: true,
  token: await simToken(sim, { upn: OWNER, resource }),
  expiresOn: new Date(Date.now() + 3_600_000),
});

describe("an estate without Microsoft.Storage registered", () => {
  it("loads the defaults, defers the name checks, creates and plans the run with them, and the run completes", async () => {
    const loaded = await loadNewRunDefaults(owner);
    if (!loaded.ok) throw new Error(loaded.message);
    const defaults = loaded.data;
    expect(defaults.subscriptions.map((s) => [s.id, s.storageRegistered, s.canCreateStorage, s.error])).toEqual(
      expect.arrayContaining([
        [SUB_PROD, false, true, undefined],
        [SUB_DEV, false, true, undefined],
      ]),
    );
    // Nothing registered anywhere: each region goes where its clusters are most numerous (ties by name).
    expect(defaults.regions.map((r) => [r.region, r.subscriptionId])).toEqual([
      ["eastus", SUB_DEV],
      ["westeurope", SUB_DEV],
    ]);

    // The name check is not an error: it waits for the plan's registration, and never says "deleted".
    for (const r of defaults.regions) {
      const check = await checkStorageName(owner, {
        subscriptionId: r.subscriptionId,
        resourceGroup: r.resourceGroup,
        accountName: r.accountName,
      });
      expect(check).toEqual({ ok: true, data: { status: "deferred", message: DEFERRED_NAME_MESSAGE } });
    }

    // What the form sends with no click beyond "Review the plan".
    const input = newRunSchema.parse({
      subscriptionIds: defaults.subscriptions.filter((s) => !s.readOnly).map((s) => s.id),
      clusterIds: defaults.subscriptions.flatMap((s) => s.clusters.map((c) => c.id)),
      storage: defaults.regions,
      restrictNetwork: false,
      retentionDays: 30,
      secretLifetimeDays: 180,
    });
    const created = await createOnboardingRun(owner, input);
    if (!created.ok) throw new Error(`${created.message} ${JSON.stringify(created.fieldErrors)}`);
    const run = await getRunForTenant(created.data.runId, TENANT);
    expect((run?.config as RunConfig | undefined)?.storage.map((s) => [s.region, s.subscriptionId, s.adopt])).toEqual([
      ["eastus", SUB_DEV, false],
      ["westeurope", SUB_DEV, false],
    ]);

    // The plan registers Microsoft.Storage before creating the accounts, and says the names are checked then.
    const plan = run?.plan as StoredPlan | undefined;
    const storage = plan?.steps.find((s) => s.stepId === "storage");
    expect(storage?.error).toBeUndefined();
    const registrations = storage?.changes.filter((c) => c.action === "register" && c.resource.startsWith("Microsoft.Storage")) ?? [];
    expect(registrations.map((c) => c.resource).sort()).toEqual([
      "Microsoft.Storage in Contoso Development",
      "Microsoft.Storage in Contoso Production",
    ]);
    const accounts = storage?.changes.filter((c) => c.resourceType === "Storage account") ?? [];
    expect(accounts.map((c) => c.action)).toEqual(["create", "create"]);
    for (const a of accounts) expect(a.details?.some((d) => /checked right after Microsoft\.Storage is registered/.test(d))).toBe(true);

    expect(await confirmRunPlan(created.data.runId, OWNER)).toBe(true);
    expect(await setRunStatus(created.data.runId, "running", { from: ["planned"] })).toBe(true);
    const since = new Date().toISOString();
    const result = await runRemainingSteps({
      runId: created.data.runId,
      tenantId: TENANT,
      actor: { userId: null, upn: OWNER },
      tokens,
      modules: STEP_MODULES,
    });
    if (result.outcome !== "completed") console.error(JSON.stringify(result, null, 2));
    expect(result).toEqual({ outcome: "completed" });
    const done = await getRunForTenant(created.data.runId, TENANT);
    expect(done?.steps.map((s) => s.status)).toEqual(STEP_IDS.map(() => "done"));

    // The step registered the provider, then asked Azure about the names before creating the accounts.
    const requests = await simRequests(sim, since);
    const registerAt = requests.findIndex(
      (r) => r.method === "POST" && /Microsoft\.Storage\/register/i.test(r.url) && r.url.includes(SUB_DEV),
    );
    const checkAt = requests.findIndex((r) => r.method === "POST" && /checkNameAvailability/i.test(r.url) && r.status === 200);
    const createAt = requests.findIndex((r) => r.method === "PUT" && /storageAccounts\/[^/?]+\?/i.test(r.url));
    expect(registerAt).toBeGreaterThanOrEqual(0);
    expect(checkAt).toBeGreaterThan(registerAt);
    expect(createAt).toBeGreaterThan(checkAt);
    const state = await simState(sim);
    const made = (state.arm as { type: string; name: string; location: string }[]).filter(
      (r) => r.type.toLowerCase() === "microsoft.storage/storageaccounts",
    );
    expect(made.map((a) => [a.name, a.location]).sort()).toEqual(defaults.regions.map((r) => [r.accountName, r.region]).sort());
  });
});

describe("a name Azure could check only after registration", () => {
  it("is checked right after the step registers Microsoft.Storage, and a taken one stops the step before any group or account", async () => {
    const taken = suggestStorageAccountName(TENANT, "eastus");
    expect((await simJson(sim, "POST", "/_sim/reset", { body: { ...scenario, takenStorageAccountNames: [taken] } })).status).toBe(200);
    const { ctx, writes } = testStepContext(sim);
    const live = await storageStep.read(ctx);
    expect(live.regions.map((r) => [r.choice.region, r.nameDeferred, r.nameCheck])).toEqual([
      ["eastus", true, null],
      ["westeurope", true, null],
    ]);
    const failure = await storageStep.apply(ctx, live).then(
      () => null,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(AzureOperationError);
    expect(failure).toMatchObject({ code: "name_taken" });
    expect((failure as Error).message).toContain(`The storage account name ${taken} (eastus) turned out to be taken`);
    expect((failure as Error).message).toContain("Start a new onboarding and choose another name");
    // Only the registrations were written: the taken name stopped the step before any group or account.
    expect([...new Set(writes.map((w) => w.kind))]).toEqual(["register"]);
    const state = await simState(sim);
    expect((state.arm as { type: string }[]).filter((r) => r.type.toLowerCase() === "microsoft.storage/storageaccounts")).toEqual([]);
    // Nothing blocks the admin's next run: the same step with another name now checks it live and proceeds.
    const again = testStepContext(sim, {
      config: {
        ...defaultRunConfig(),
        storage: defaultRunConfig().storage.map((c) => ({ ...c, accountName: `${c.accountName.slice(0, 20)}x2` })),
      },
    });
    const relive = await storageStep.read(again.ctx);
    expect(relive.regions.map((r) => [r.nameDeferred ?? false, r.nameCheck?.available])).toEqual([
      [false, true],
      [false, true],
    ]);
  });
});
