// Who may act, decided live: every server action posted directly as a Reader of the tenant is refused and writes
// nothing (Azure or database); a Contributor can't run the role steps; an Owner with an Entra admin role can do all.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { getAccessToken, SESSION_ENDED_MESSAGE, sessionTokens } from "../../../lib/auth/tokens";
import { ACTION_DECISIONS } from "../../../lib/authz/actions";
import { mayManageCredential, mayOffboardRun, mayRunAnyStep, mayRunStep, PermissionProbe, runScope } from "../../../lib/authz/decide";
import {
  closeDb,
  configureDb,
  confirmRunPlan,
  createRun,
  deleteSession,
  getRunForTenant,
  listAuditEvents,
  listRunsForTenant,
  migrate,
  setRunPlan,
  setRunStatus,
} from "../../../lib/db";
import { beginRunOffboarding } from "../../../lib/db/runs";
import { db } from "../../../lib/db/client";
import { runRemainingSteps } from "../../../lib/engine/drive-run";
import { STEP_MODULES } from "../../../lib/engine/step-modules";
import type { RunConfig } from "../../../lib/steps/config";
import { STEP_IDS } from "../../../lib/steps/registry";
import type { RunningSimulator } from "../../../simulator/src/index";
import { simJson } from "../../../simulator/src/testing";
import { OWNER, READER, startSimForPortal, SUB_DEV, SUB_PROD, TENANT } from "../azure/support";
import { signInThroughSimulator } from "../sign-in";
import { testDbOptions } from "../../support/pglite-template";
import { sessionCookie } from "../../support/next-headers";

const CONTRIBUTOR = "contributor@contoso.onmicrosoft.com";
vi.mock("server-only", () => ({}));
vi.mock("next/cache", () => ({ revalidatePath: vi.fn() }));
vi.mock("next/navigation", () => ({
  redirect: (to: string) => {
    throw new Error(`redirect ${to}`);
  },
}));
vi.mock("next/headers", () => import("@/test/support/next-headers"));

let sim: RunningSimulator;
const dataDir = path.join(".test-data", `authz-${crypto.randomBytes(4).toString("hex")}`);

beforeAll(async () => {
  sim = await startSimForPortal();
  process.env.PORTAL_URL = "http://localhost:3000";
  configureDb(testDbOptions(dataDir));
  await migrate();
}, 60_000);
afterAll(async () => {
  await closeDb();
  await sim?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function config(): RunConfig {
  return {
    tenantId: TENANT,
    subscriptions: [
      { id: SUB_PROD, displayName: "Contoso Production" },
      { id: SUB_DEV, displayName: "Contoso Development" },
    ],
    clusters: [
      {
        id: `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.ContainerService/managedClusters/aks-payments-prod`,
        name: "aks-payments-prod",
        subscriptionId: SUB_PROD,
        resourceGroup: "rg-aks-prod-eastus",
        location: "eastus",
      },
      {
        id: `/subscriptions/${SUB_DEV}/resourceGroups/rg-aks-dev-eastus/providers/Microsoft.ContainerService/managedClusters/aks-dev-eastus`,
        name: "aks-dev-eastus",
        subscriptionId: SUB_DEV,
        resourceGroup: "rg-aks-dev-eastus",
        location: "eastus",
      },
    ],
    storage: [
      {
        region: "eastus",
        subscriptionId: SUB_PROD,
        resourceGroup: "rg-aks-audit",
        createResourceGroup: true,
        accountName: "kubeauditauthz01",
        adopt: false,
      },
    ],
    options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180 },
    vendor: { name: "Expel", appUniqueName: "expel-aks-audit-authz", appDisplayName: "Expel AKS audit reader", egressIps: [] },
  };
}

/** A run of the simulator's tenant in `status`, with the steps before `next` done. */
async function runIn(status: "planned" | "failed" | "completed", next: (typeof STEP_IDS)[number] = "storage") {
  const run = await createRun({ tenantId: TENANT, createdByUserId: null, createdByUpn: OWNER, config: config(), steps: STEP_IDS });
  await setRunPlan(run.id, { steps: [] });
  if (status === "planned") return run;
  await confirmRunPlan(run.id, OWNER);
  await setRunStatus(run.id, "running", { from: ["planned"] });
  const done = status === "completed" ? [...STEP_IDS] : STEP_IDS.slice(0, STEP_IDS.indexOf(next));
  const prisma = await db();
  for (const stepId of done)
    await prisma.$executeRaw`UPDATE "step_runs" SET "status" = 'done' WHERE "run_id" = ${run.id} AND "step_id" = ${stepId}`;
  await setRunStatus(run.id, status, { from: ["running"] });
  return run;
}

type AnyAction = (prev: null, form: FormData) => Promise<unknown>;

async function actionModules(): Promise<Record<string, AnyAction>> {
  const modules = await Promise.all([
    import("../../../app/onboarding/actions"),
    import("../../../app/onboarding/admin-handoff-actions"),
    import("../../../app/onboarding/choices-actions"),
    import("../../../app/onboarding/drift-actions"),
    import("../../../app/onboarding/handoff-actions"),
    import("../../../app/onboarding/offboard-actions"),
    import("../../../app/onboarding/plan-actions"),
    import("../../../app/onboarding/rotation-actions"),
    import("../../../app/onboarding/verification-actions"),
  ]);
  return Object.assign({}, ...modules) as Record<string, AnyAction>;
}

async function writesSince(since: string): Promise<string[]> {
  const log = (await simJson(sim, "GET", `/_sim/requests?since=${encodeURIComponent(since)}`)).body as unknown as {
    method: string;
    url: string;
  }[];
  // checkNameAvailability is a read that ARM serves as a POST (the coverage re-check proposes names for new regions).
  return log.filter((r) => r.method !== "GET" && !/checkNameAvailability/i.test(r.url)).map((r) => `${r.method} ${r.url}`);
}

describe("authorization of customer actions", () => {
  it("has a decision for every server action the customer modules export", async () => {
    const names = Object.keys(await actionModules()).sort();
    expect(names).toEqual(Object.keys(ACTION_DECISIONS).sort());
  });

  it("refuses every acting action a Reader posts directly, and writes nothing in Azure or the database", async () => {
    const planned = await runIn("planned");
    const failed = await runIn("failed", "custom-role");
    const completed = await runIn("completed");
    const reader = await signInThroughSimulator(sim, READER);
    sessionCookie.token = reader.cookie;
    const actions = await actionModules();
    const runFor: Record<string, string> = {
      replanAction: planned.id,
      leaveClusterOutAction: planned.id,
      confirmPlanAction: planned.id,
      continueRunAction: failed.id,
      changeChoicesAction: failed.id,
      askAnotherAdminAction: failed.id,
    };
    const since = new Date().toISOString();
    const eventsBefore = (await listAuditEvents(TENANT, { limit: 1000 })).length;
    const runsBefore = await listRunsForTenant(TENANT, { limit: 100 });

    const outcomes: Record<string, unknown> = {};
    for (const [name, decision] of Object.entries(ACTION_DECISIONS)) {
      const action = actions[name];
      if (!action) throw new Error(`no action ${name}`);
      if (name === "createRunAction" || name === "checkStorageNameAction") {
        const input =
          name === "createRunAction"
            ? {
                subscriptionIds: [SUB_PROD],
                clusterIds: [config().clusters[0]!.id],
                storage: [{ region: "eastus", subscriptionId: SUB_PROD, resourceGroup: "rg-aks-audit", accountName: "kubeauditreader01" }],
                restrictNetwork: false,
                retentionDays: 30,
                secretLifetimeDays: 180,
              }
            : { subscriptionId: SUB_PROD, resourceGroup: "rg-aks-audit", accountName: "kubeauditreader01" };
        outcomes[name] = await (action as unknown as (input: unknown) => Promise<unknown>)(input);
      } else {
        const form = new FormData();
        form.set("runId", runFor[name] ?? completed.id);
        form.set("planHash", "0".repeat(64));
        if (name === "extendCoverageAction" || name === "leaveClusterOutAction") form.append("cluster", "0123456789abcdef01234567");
        outcomes[name] = await action(null, form);
      }
      if (decision !== "view")
        expect({ name, outcome: outcomes[name] }).toMatchObject({ name, outcome: { ok: false, code: "not_permitted" } });
      else expect({ name, outcome: outcomes[name] }).not.toMatchObject({ name, outcome: { code: "not_permitted" } });
    }
    // The refusal names the role and who can act.
    expect(outcomes.rotateSecretAction).toMatchObject({ message: expect.stringMatching(/Cloud Application Administrator/) });
    expect(outcomes.startOffboardingAction).toMatchObject({ message: expect.stringMatching(/Owner/) });

    expect(await writesSince(since)).toEqual([]);
    // Only "ask another admin" (a view decision) may record an event; nothing else was written.
    const events = await listAuditEvents(TENANT, { limit: 1000 });
    expect(events.length - eventsBefore).toBeLessThanOrEqual(1);
    expect(await listRunsForTenant(TENANT, { limit: 100 })).toHaveLength(runsBefore.length);
    for (const run of [planned, failed, completed])
      expect((await getRunForTenant(run.id, TENANT))?.status).toBe(
        run.id === planned.id ? "planned" : run.id === failed.id ? "failed" : "completed",
      );
    expect((await getRunForTenant(planned.id, TENANT))?.config).toEqual(config());
  }, 60_000);

  it("lets a Contributor run the resource steps but not the role or Entra steps", async () => {
    const { session } = await signInThroughSimulator(sim, CONTRIBUTOR);
    const probe = new PermissionProbe({ objectId: session.user.objectId, tokens: sessionTokens(session) });
    const scope = runScope(config());
    expect(await mayRunStep(probe, scope, "storage")).toEqual({ allowed: true });
    expect(await mayRunStep(probe, scope, "diagnostic-settings")).toEqual({ allowed: true });
    for (const step of ["custom-role", "role-assignments"] as const) {
      expect(await mayRunStep(probe, scope, step)).toMatchObject({
        allowed: false,
        code: "not_permitted",
        message: expect.stringMatching(/Owner/),
      });
    }
    expect(await mayRunStep(probe, scope, "app-registration")).toMatchObject({
      allowed: false,
      message: expect.stringMatching(/Cloud Application Administrator/),
    });
    expect(await mayOffboardRun(probe, scope)).toMatchObject({ allowed: false });
    // Steps start side by side: one of them theirs is enough to go on; none, and every missing role is named.
    expect(await mayRunAnyStep(probe, scope, ["app-registration", "diagnostic-settings", "custom-role"])).toEqual({ allowed: true });
    const neither = await mayRunAnyStep(probe, scope, ["app-registration", "custom-role"]);
    expect(neither).toMatchObject({ allowed: false, code: "not_permitted" });
    expect(neither.allowed ? "" : neither.message).toMatch(/Cloud Application Administrator.*Owner/s);

    // Posted directly: Continue on a run stopped before the custom role is refused.
    const failed = await runIn("failed", "custom-role");
    sessionCookie.token = (await signInThroughSimulator(sim, CONTRIBUTOR)).cookie;
    const form = new FormData();
    form.set("runId", failed.id);
    const { continueRunAction } = await import("../../../app/onboarding/actions");
    expect(await continueRunAction(null, form)).toMatchObject({
      ok: false,
      code: "not_permitted",
      message: expect.stringMatching(/Read-only AKS role/),
    });
    expect((await getRunForTenant(failed.id, TENANT))?.status).toBe("failed");
  }, 60_000);

  it("lets an Owner who is a Cloud Application Administrator do everything, from one read per subscription", async () => {
    const { session } = await signInThroughSimulator(sim, OWNER);
    const since = new Date().toISOString();
    const probe = new PermissionProbe({ objectId: session.user.objectId, tokens: sessionTokens(session) });
    const scope = runScope(config());
    for (const step of STEP_IDS) expect(await mayRunStep(probe, scope, step)).toEqual({ allowed: true });
    expect(await mayManageCredential(probe, scope)).toEqual({ allowed: true });
    expect(await mayOffboardRun(probe, scope)).toEqual({ allowed: true });
    const log = (await simJson(sim, "GET", `/_sim/requests?since=${encodeURIComponent(since)}`)).body as unknown as {
      method: string;
      url: string;
    }[];
    const permissionReads = log.filter((r) => /providers\/Microsoft\.Authorization\/permissions/i.test(r.url));
    expect(permissionReads).toHaveLength(2);
  }, 60_000);
});

describe("the run's lifecycle", () => {
  it("refuses Retry, rotation, re-verification and extension once removal has started, and everything but viewing after it", async () => {
    const owner = await signInThroughSimulator(sim, OWNER);
    sessionCookie.token = owner.cookie;
    const actions = await actionModules();
    const post = async (name: string, runId: string) => {
      const form = new FormData();
      form.set("runId", runId);
      form.set("planHash", "0".repeat(64));
      form.append("cluster", "0123456789abcdef01234567");
      return actions[name]!(null, form);
    };
    const failed = await runIn("failed", "custom-role");
    const completed = await runIn("completed");
    expect(await beginRunOffboarding(failed.id, ["failed"])).toBe(true);
    expect(await beginRunOffboarding(completed.id, ["completed"])).toBe(true);
    const since = new Date().toISOString();
    expect(await post("continueRunAction", failed.id)).toMatchObject({
      ok: false,
      code: "conflict",
      message: expect.stringMatching(/being removed/),
    });
    for (const name of [
      "rotateSecretAction",
      "rerunVerificationAction",
      "extendCoverageAction",
      "recheckCoverageAction",
      "revealSecretAction",
    ]) {
      expect({ name, result: await post(name, completed.id) }).toMatchObject({ name, result: { ok: false, code: "conflict" } });
    }
    expect(await setRunStatus(completed.id, "offboarded", { from: ["offboarding"] })).toBe(true);
    for (const name of Object.keys(ACTION_DECISIONS).filter((n) => n !== "createRunAction" && n !== "checkStorageNameAction")) {
      expect({ name, result: await post(name, completed.id) }).toMatchObject({ name, result: { ok: false, code: "conflict" } });
    }
    expect(await writesSince(since)).toEqual([]);
    expect((await getRunForTenant(failed.id, TENANT))?.status).toBe("offboarding");
    // A run that is working can't start its removal: the Retry and the removal can't both win.
    const working = await runIn("failed", "custom-role");
    await setRunStatus(working.id, "running", { from: ["failed"] });
    const prisma = await db();
    await prisma.$executeRaw`UPDATE "step_runs" SET "status" = 'running', "lease_owner" = 'someone', "lease_expires_at" = now() + interval '1 minute' WHERE "run_id" = ${working.id} AND "step_id" = 'custom-role'`;
    expect(await beginRunOffboarding(working.id, ["running", "failed", "completed"])).toBe(false);
  }, 60_000);
});

describe("after sign-out", () => {
  it("starts no new work with the signed-out admin's refresh token", async () => {
    const { session } = await signInThroughSimulator(sim, OWNER);
    expect(await getAccessToken(session, "arm")).toMatchObject({ ok: true });
    expect(await deleteSession(session.tokenHash)).toBe(true);
    expect(await getAccessToken(session, "arm")).toEqual({ ok: false, code: "reauth_required", message: SESSION_ENDED_MESSAGE });

    // A run confirmed before the sign-out and driven with that session's tokens writes nothing and waits for a sign-in.
    const run = await runIn("failed", "storage");
    await setRunStatus(run.id, "running", { from: ["failed"] });
    const since = new Date().toISOString();
    const result = await runRemainingSteps({
      runId: run.id,
      tenantId: TENANT,
      actor: { userId: session.user.id, upn: OWNER },
      tokens: sessionTokens(session),
      modules: STEP_MODULES,
    });
    expect(result).toMatchObject({ outcome: "stopped", code: "reauth_required" });
    expect(await writesSince(since)).toEqual([]);
    expect((await getRunForTenant(run.id, TENANT))?.steps.find((s) => s.stepId === "storage")?.status).not.toBe("done");
  }, 60_000);
});
