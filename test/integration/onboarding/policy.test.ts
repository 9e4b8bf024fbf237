// An estate with deny policies (simulator/scenarios/policy-deny.json): the form pre-fills the required tag, a run that
// misses what the policies demand stops at the storage step with the assignment named, and after the admin changes the
// choices it names (the tag, then "Restrict network access") the retried step succeeds.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  closeDb,
  configureDb,
  confirmRunPlan,
  getRunForTenant,
  listAuditEvents,
  migrate,
  setRunStatus,
  type SessionWithUser,
} from "../../../lib/db";
import { runRemainingSteps } from "../../../lib/engine/drive-run";
import { STEP_MODULES } from "../../../lib/engine/step-modules";
import type { TokenProvider } from "../../../lib/auth/tokens";
import { changeChoicesAndRetry, choiceHints } from "../../../lib/onboarding/change-choices";
import { createOnboardingRun, loadNewRunDefaults } from "../../../lib/onboarding/new-run";
import { getRunView } from "../../../lib/onboarding/run-control";
import { newRunSchema } from "../../../lib/onboarding/schemas";
import type { RunningSimulator } from "../../../simulator/src/index";
import { simToken } from "../../../simulator/src/testing";
import { testDbOptions } from "../../support/pglite-template";
import { OWNER, simState, sleep, startSimForPortal, TENANT } from "../azure/support";
import { signInThroughSimulator } from "../sign-in";

const EGRESS = ["203.0.113.10", "198.51.100.20"];
let sim: RunningSimulator;
let owner: SessionWithUser;
const dataDir = path.join(".test-data", `policy-${crypto.randomBytes(4).toString("hex")}`);

beforeAll(async () => {
  // Restricting network access needs the vendor's egress IPs (read once per process by env()).
  process.env.VENDOR_EGRESS_IPS = EGRESS.join(",");
  sim = await startSimForPortal({ scenario: path.join("simulator", "scenarios", "policy-deny.json") });
  process.env.PORTAL_URL = "http://localhost:3000";
  configureDb(testDbOptions(dataDir));
  await migrate();
  owner = (await signInThroughSimulator(sim, OWNER, "/onboarding/new")).session;
}, 180_000);
afterAll(async () => {
  await closeDb();
  await sim?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const tokens: TokenProvider = async (resource) => ({
  ok: true,
  token: await simToken(sim, { upn: OWNER, resource }),
  expiresOn: new Date(Date.now() + 3_600_000),
});

/** The storage step once the run stopped moving (Retry runs its steps in the background). */
async function settledStorageStep(runId: string) {
  for (let i = 0; i < 600; i++) {
    const run = await getRunForTenant(runId, TENANT);
    const storage = run?.steps.find((s) => s.stepId === "storage");
    if (run && run.status !== "running" && storage?.status !== "running") return { run, storage };
    // Done is enough: the drive goes on with the next steps.
    if (storage?.status === "done") return { run, storage };
    await sleep(100);
  }
  throw new Error("the run did not settle");
}

describe("deny policies", () => {
  it("pre-fills the required tag, names the denying assignment, and succeeds after the choices it names are changed", async () => {
    const loaded = await loadNewRunDefaults(owner);
    if (!loaded.ok) throw new Error(loaded.message);
    const defaults = loaded.data;
    // Both required-tag assignments (resource groups and resources) pre-fill costCenter; the DoNotEnforce one adds nothing.
    expect(defaults.requiredTags).toEqual({
      tags: [
        {
          name: "costCenter",
          assignments: ["Require costCenter on resource groups", "Require costCenter on resources"],
          on: ["resource groups", "resources"],
        },
      ],
      notes: [],
    });

    // The admin clears the pre-filled tag and leaves "Restrict network access" off.
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
    const runId = created.data.runId;
    expect(await confirmRunPlan(runId, OWNER)).toBe(true);
    expect(await setRunStatus(runId, "running", { from: ["planned"] })).toBe(true);
    const first = await runRemainingSteps({ runId, tenantId: TENANT, actor: { userId: null, upn: OWNER }, tokens, modules: STEP_MODULES });
    expect(first).toMatchObject({ outcome: "failed", stepId: "storage" });
    let storage = (await getRunForTenant(runId, TENANT))?.steps.find((s) => s.stepId === "storage");
    expect(storage?.status).toBe("failed");
    expect(storage?.error?.code).toBe("policy_denied");
    expect(storage?.error?.message).toContain(
      "Azure Policy assignment 'Require costCenter on resource groups' requires the tag 'costCenter' on resource groups",
    );
    expect(storage?.error?.message).not.toMatch(/[{}]/);
    expect(choiceHints(storage?.error?.message ?? "")).toEqual({
      tags: [{ name: "costCenter", requiredBy: "Require costCenter on resource groups" }],
      restrictNetwork: false,
    });

    // Tag given, network still open: the resource group is created, the storage account is denied by the network policy.
    let view = await getRunView(owner, runId);
    if (!view) throw new Error("run not found");
    expect(await changeChoicesAndRetry(owner, view, { runId, restrictNetwork: false, tags: { costCenter: "cc-4711" } })).toEqual({
      ok: true,
      data: { runId },
    });
    ({ storage } = await settledStorageStep(runId));
    expect(storage?.status).toBe("failed");
    expect(storage?.error?.code).toBe("policy_denied");
    expect(storage?.error?.message).toContain(
      "Azure Policy assignment 'Storage accounts must restrict network access' requires storage accounts to deny access from all networks by default",
    );
    expect(choiceHints(storage?.error?.message ?? "").restrictNetwork).toBe(true);
    const groups = ((await simState(sim)).arm as { type: string; name: string; tags?: Record<string, string> }[]).filter(
      (r) => r.type.toLowerCase() === "microsoft.resources/resourcegroups" && r.name === "rg-aks-audit",
    );
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) expect(g.tags).toEqual({ costCenter: "cc-4711", "managed-by": "aks-onboarding-portal" });

    // "Restrict network access" on: the retried step creates the accounts, firewalled to the vendor, with the tags.
    view = await getRunView(owner, runId);
    if (!view) throw new Error("run not found");
    expect(await changeChoicesAndRetry(owner, view, { runId, restrictNetwork: true, tags: { costCenter: "cc-4711" } })).toEqual({
      ok: true,
      data: { runId },
    });
    ({ storage } = await settledStorageStep(runId));
    expect(storage?.status).toBe("done");
    const accounts = (
      (await simState(sim)).arm as {
        type: string;
        name: string;
        tags?: Record<string, string>;
        properties: { networkAcls?: { defaultAction?: string } };
      }[]
    ).filter((r) => r.type.toLowerCase() === "microsoft.storage/storageaccounts");
    expect(accounts.map((a) => a.name).sort()).toEqual(defaults.regions.map((r) => r.accountName).sort());
    for (const a of accounts) {
      expect(a.tags).toEqual({ costCenter: "cc-4711", "managed-by": "aks-onboarding-portal" });
      expect(a.properties.networkAcls?.defaultAction).toBe("Deny");
    }
    const stored = await getRunForTenant(runId, TENANT);
    expect((stored?.config as { options: unknown }).options).toMatchObject({ restrictNetwork: true, tags: { costCenter: "cc-4711" } });
    const changes = (await listAuditEvents(TENANT, { limit: 100 })).filter((e) => e.action === "run.choices_changed" && e.runId === runId);
    expect(changes).toHaveLength(2);

    // The later steps have their own tests: stop the background drive after the step it is in, before the database closes.
    await setRunStatus(runId, "failed", { from: ["running"] });
    for (let i = 0; i < 600 && (await getRunForTenant(runId, TENANT))?.steps.some((s) => s.status === "running"); i++) await sleep(100);
  }, 180_000);

  it("refuses to change the choices of a run a policy did not stop", async () => {
    const loaded = await loadNewRunDefaults(owner);
    if (!loaded.ok) throw new Error(loaded.message);
    const created = await createOnboardingRun(
      owner,
      newRunSchema.parse({
        subscriptionIds: loaded.data.subscriptions.map((s) => s.id),
        clusterIds: loaded.data.subscriptions.flatMap((s) => s.clusters.map((c) => c.id)),
        storage: loaded.data.regions.map((r) => ({ ...r, accountName: `${r.accountName.slice(0, 20)}x2` })),
        restrictNetwork: true,
        tags: { costCenter: "cc-4711" },
        retentionDays: 30,
        secretLifetimeDays: 180,
      }),
    );
    if (!created.ok) throw new Error(created.message);
    const view = await getRunView(owner, created.data.runId);
    if (!view) throw new Error("run not found");
    expect(await changeChoicesAndRetry(owner, view, { runId: created.data.runId, restrictNetwork: false, tags: {} })).toMatchObject({
      ok: false,
      code: "conflict",
    });
    expect((await getRunForTenant(created.data.runId, TENANT))?.config).toEqual(view.run.config);
  }, 60_000);
});
