// Client-secret rotation of a completed run against the simulator: Graph, Entra client credentials, ARM and Workbench.
import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { encryptionKey } from "../../../lib/auth/keys";
import { decrypt } from "../../../lib/crypto";
import {
  confirmRunPlan,
  createRun,
  getRunSecret,
  listAuditEvents,
  listOperations,
  setRunPlan,
  setRunStatus,
  upsertUser,
  type SessionWithUser,
} from "../../../lib/db";
import { getRotation } from "../../../lib/db/rotations";
import { secretAad } from "../../../lib/engine/context";
import { executeStep } from "../../../lib/engine/execute-step";
import { runRemainingSteps } from "../../../lib/engine/drive-run";
import { planRun } from "../../../lib/engine/plan-run";
import { STEP_MODULES } from "../../../lib/engine/step-modules";
import { ROTATION_SECRET_KIND, type RotationPolicy } from "../../../lib/rotation/execute";
import { getCredentialStatus, requestRotation } from "../../../lib/rotation/service";
import { CLIENT_SECRET_KIND } from "../../../lib/steps/app-registration";
import { STEP_IDS } from "../../../lib/steps/registry";
import type { RunningSimulator } from "../../../simulator/src/index";
import { OWNER, READER, setFaults, simRequests, simState, TENANT } from "../azure/support";
import { defaultRunConfig } from "../steps/context";
import { portalFixture, sessionOf } from "../portal-fixture";

let sim: RunningSimulator;
const { tokensOf } = portalFixture("rotation", { blob: true }, (started) => (sim = started));
const POLICY = {
  leaseTtlMs: 1_500,
  transientAttempts: 6,
  transientBaseDelayMs: 20,
  transientMaxDelayMs: 200,
  replicationBaseDelayMs: 20,
  replicationMaxDelayMs: 200,
  signIn: { timeoutMs: 15_000, intervalMs: 250 },
} satisfies RotationPolicy; // sign-in outlasts the simulator's 2 s new-secret window

interface PasswordCredential {
  keyId: string;
  displayName: string | null;
  endDateTime: string;
}
interface StateApp {
  appId: string;
  uniqueName: string | null;
  passwordCredentials: PasswordCredential[];
}

async function vendorApp(): Promise<StateApp> {
  const apps = (await simState(sim)).graph.applications as StateApp[];
  const app = apps.find((a) => a.uniqueName === defaultRunConfig().vendor.appUniqueName);
  if (!app) throw new Error("vendor app missing");
  return app;
}

async function workbenchSecretHash(): Promise<string | undefined> {
  const wb = (await simState(sim)).workbench as { devices: { id: string }[]; secretSha256: Record<string, string> };
  const id = wb.devices[0]?.id;
  return id ? wb.secretSha256[id] : undefined;
}

/** Entra's client_credentials answer for the vendor app with `secret`. */
async function signInAsApp(appId: string, secret: string): Promise<{ status: number; codes: number[] }> {
  const res = await fetch(`${sim.url}/${TENANT}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: appId,
      client_secret: secret,
      scope: "https://management.azure.com/.default",
    }),
  });
  const body = (await res.json()) as { error_codes?: number[] };
  return { status: res.status, codes: body.error_codes ?? [] };
}

const sha256 = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

/** Runs every step against the simulator; returns the run id and the first secret's value (read before its hand-off). */
async function completedRun(): Promise<{ runId: string; firstSecret: string }> {
  const config = defaultRunConfig();
  const tokens = tokensOf(OWNER);
  const run = await createRun({ tenantId: TENANT, createdByUserId: null, createdByUpn: OWNER, config, steps: STEP_IDS });
  const planned = await planRun({ config, tenantId: TENANT, tokens, modules: STEP_MODULES, runId: run.id });
  expect(await setRunPlan(run.id, planned as never)).toBe(true);
  expect(await confirmRunPlan(run.id, OWNER)).toBe(true);
  expect(await setRunStatus(run.id, "running", { from: ["planned"] })).toBe(true);
  const actor = { userId: null, upn: OWNER };
  for (const stepId of STEP_IDS.slice(0, STEP_IDS.indexOf("workbench-handoff"))) {
    expect(await executeStep({ runId: run.id, tenantId: TENANT, stepId, actor, tokens, modules: STEP_MODULES })).toMatchObject({
      ok: true,
    });
  }
  const sealed = await getRunSecret(run.id, CLIENT_SECRET_KIND);
  if (!sealed) throw new Error("no sealed secret");
  const firstSecret = decrypt(sealed.ciphertext, encryptionKey(), secretAad(run.id, CLIENT_SECRET_KIND));
  expect(await runRemainingSteps({ runId: run.id, tenantId: TENANT, actor, tokens, modules: STEP_MODULES })).toEqual({
    outcome: "completed",
  });
  return { runId: run.id, firstSecret };
}

const addPasswordCalls = async (since: string) =>
  (await simRequests(sim, since)).filter((r) => r.method === "POST" && r.url.includes("/addPassword")).length;

describe("credential rotation", () => {
  let runId = "";
  let owner: SessionWithUser;
  let firstSecret = "";
  let newSecret = "";
  let firstKeyId = "";

  it("shows the run's secret expiry, then rotates it through a crash after the create without a third secret", async () => {
    ({ runId, firstSecret } = await completedRun());
    owner = await sessionOf(OWNER, OWNER);
    const app = await vendorApp();
    expect(app.passwordCredentials).toHaveLength(1);
    firstKeyId = app.passwordCredentials[0]?.keyId ?? "";
    expect(await workbenchSecretHash()).toBe(sha256(firstSecret));

    const before = await getCredentialStatus(owner, runId, { now: new Date() });
    expect(before).toMatchObject({ keyId: firstKeyId, level: "ok", mode: "api", rotation: null, lifetimeDays: 180 });
    expect(before?.expiresAt?.toISOString()).toBe(new Date(app.passwordCredentials[0]?.endDateTime ?? "").toISOString());
    const masked = await getCredentialStatus(owner, runId, { presenter: true });
    expect(masked?.keyId).not.toContain(firstKeyId);
    expect(masked?.hint).toBe("");

    const since = new Date().toISOString();
    const crashed = await requestRotation(owner, runId, { tokens: tokensOf(OWNER), policy: POLICY, wait: true, crashAfter: "created" });
    expect(crashed).toMatchObject({ ok: true, data: { resumed: false, outcome: { status: "crashed" } } });
    // The new secret exists next to the old one, its value only sealed in the database.
    expect((await vendorApp()).passwordCredentials).toHaveLength(2);
    const sealed = await getRunSecret(runId, ROTATION_SECRET_KIND);
    if (!sealed) throw new Error("the new secret was not sealed");
    newSecret = decrypt(sealed.ciphertext, encryptionKey(), secretAad(runId, ROTATION_SECRET_KIND));
    expect(sealed.ciphertext).not.toContain(newSecret);

    // While the crashed holder's lease is live, nobody else can take over.
    expect(await requestRotation(owner, runId, { tokens: tokensOf(OWNER), policy: POLICY, wait: true })).toMatchObject({
      ok: false,
      code: "conflict",
    });
    await new Promise((r) => setTimeout(r, POLICY.leaseTtlMs + 200));
    const resumed = await requestRotation(owner, runId, { tokens: tokensOf(OWNER), policy: POLICY, wait: true });
    expect(resumed).toMatchObject({ ok: true, data: { resumed: true, outcome: { status: "done" } } });

    expect(await addPasswordCalls(since)).toBe(1);
    const after = await vendorApp();
    expect(after.passwordCredentials).toHaveLength(1);
    expect(after.passwordCredentials[0]?.keyId).not.toBe(firstKeyId);
    expect(after.passwordCredentials[0]?.keyId).toBe(sealed.keyId);
    expect(await workbenchSecretHash()).toBe(sha256(newSecret));
    expect(await signInAsApp(after.appId, firstSecret)).toEqual({ status: 401, codes: [7000215] });
    expect((await signInAsApp(after.appId, newSecret)).status).toBe(200);
    expect(await getRunSecret(runId, ROTATION_SECRET_KIND)).toBeNull();

    const status = await getCredentialStatus(owner, runId);
    expect(status).toMatchObject({ keyId: sealed.keyId, level: "ok", rotation: { status: "done", phase: "old_removed", error: null } });
    // Lifetime = the run's configured secret lifetime (180 days).
    expect(Math.round(((status?.expiresAt?.getTime() ?? 0) - Date.now()) / 86_400_000)).toBe(180);

    const ops = (await listOperations(runId)).filter((o) => o.stepId === "credential-rotation");
    expect(ops.map((o) => `${o.kind}:${o.status}`)).toEqual(["create:succeeded", "update:succeeded", "delete:succeeded"]);
    const audit = JSON.stringify(await listAuditEvents(TENANT, { limit: 500 }));
    expect(audit).toContain("credential.rotated");
    expect(audit).not.toContain(newSecret);
    expect(audit).not.toContain(firstSecret);
  }, 120_000);

  it("rotates again under throttling and 5xx faults, ending with exactly one secret", async () => {
    const keyBefore = (await vendorApp()).passwordCredentials[0]?.keyId;
    const since = new Date().toISOString();
    await setFaults(sim, { rate: 0.3, kinds: ["429", "500", "503"], seed: 7 });
    try {
      const result = await requestRotation(owner, runId, {
        tokens: tokensOf(OWNER),
        policy: { ...POLICY, transientAttempts: 12 },
        wait: true,
      });
      expect(result).toMatchObject({ ok: true, data: { outcome: { status: "done" } } });
    } finally {
      await setFaults(sim, { rate: 0 });
    }
    const faulted = (await simRequests(sim, since)).filter((r) => [429, 500, 503].includes(r.status));
    expect(faulted.length).toBeGreaterThan(0);
    const app = await vendorApp();
    expect(app.passwordCredentials).toHaveLength(1);
    expect(app.passwordCredentials[0]?.keyId).not.toBe(keyBefore);
    expect(await signInAsApp(app.appId, newSecret)).toEqual({ status: 401, codes: [7000215] });
  }, 120_000);

  it("lets only one of two simultaneous requests rotate", async () => {
    const since = new Date().toISOString();
    const [a, b] = await Promise.all([
      requestRotation(owner, runId, { tokens: tokensOf(OWNER), policy: POLICY, wait: true }),
      requestRotation(await sessionOf("second@contoso.onmicrosoft.com", "second@contoso.onmicrosoft.com"), runId, {
        tokens: tokensOf(OWNER),
        policy: POLICY,
        wait: true,
      }),
    ]);
    expect([a.ok, b.ok].sort()).toEqual([false, true]);
    expect([a, b].find((r) => !r.ok)).toMatchObject({ code: "conflict" });
    expect(await addPasswordCalls(since)).toBe(1);
    expect((await vendorApp()).passwordCredentials).toHaveLength(1);
  }, 120_000);

  it("stops with the role needed when the admin may not manage the app's secrets, keeping the old secret", async () => {
    const keyBefore = (await vendorApp()).passwordCredentials[0]?.keyId;
    const reader = await sessionOf(READER, READER);
    const result = await requestRotation(reader, runId, { tokens: tokensOf(READER), policy: POLICY, wait: true });
    expect(result.ok).toBe(true);
    const outcome = result.ok ? result.data.outcome : undefined;
    expect(outcome).toMatchObject({ status: "failed", error: { code: "forbidden" } });
    expect(outcome?.status === "failed" ? outcome.error.message : "").toMatch(/Cloud Application Administrator/);
    expect((await vendorApp()).passwordCredentials.map((c) => c.keyId)).toEqual([keyBefore]);
    const rotation = await getRotation(runId);
    expect(rotation?.status).toBe("failed");
    expect((await getCredentialStatus(reader, runId))?.rotation?.error).toMatch(/Cloud Application Administrator/);

    // The owner retries the failed rotation: it resumes and finishes.
    const retried = await requestRotation(owner, runId, { tokens: tokensOf(OWNER), policy: POLICY, wait: true });
    expect(retried).toMatchObject({ ok: true, data: { resumed: true, outcome: { status: "done" } } });
    expect((await vendorApp()).passwordCredentials).toHaveLength(1);
  }, 120_000);

  it("refuses another tenant's admin without revealing the run", async () => {
    const user = await upsertUser({
      tenantId: crypto.randomUUID(),
      objectId: crypto.randomUUID(),
      upn: "admin@fabrikam.example",
      displayName: "x",
    });
    const now = new Date();
    const foreign: SessionWithUser = {
      tokenHash: "x",
      userId: user.id,
      homeAccountId: "h",
      tokenCache: "",
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + 60_000),
      user,
    };
    expect(await requestRotation(foreign, runId, { tokens: tokensOf(OWNER), policy: POLICY, wait: true })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
    expect(await getCredentialStatus(foreign, runId)).toBeNull();
  });
});
