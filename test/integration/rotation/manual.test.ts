// Rotation of a run handed off manually (no Workbench API): the new secret is revealed once, the old one goes only after
// the admin acknowledges. Also: a secret left behind by an attempt that died before sealing it is removed, not kept.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, configureDb, confirmRunPlan, createRun, listOperations, migrate, setRunPlan, setRunStatus } from "../../../lib/db";
import { runRemainingSteps } from "../../../lib/engine/drive-run";
import { planRun } from "../../../lib/engine/plan-run";
import { STEP_MODULES } from "../../../lib/engine/step-modules";
import type { TokenProvider } from "../../../lib/auth/tokens";
import { acknowledgeHandoff, getManualHandoff, revealClientSecret } from "../../../lib/onboarding/manual-handoff";
import type { RotationPolicy } from "../../../lib/rotation/execute";
import { getCredentialStatus, requestRotation } from "../../../lib/rotation/service";
import { runCredentialName } from "../../../lib/steps/app-registration";
import { STEP_IDS } from "../../../lib/steps/registry";
import type { RunningSimulator } from "../../../simulator/src/index";
import { simJson, simToken } from "../../../simulator/src/testing";
import { OWNER, simState, startSimForPortal, TENANT } from "../azure/support";
import { defaultRunConfig } from "../steps/context";
import { testDbOptions } from "../../support/pglite-template";
import { newSession } from "../../support/engine";

let sim: RunningSimulator;
const dataDir = path.join(".test-data", `rotation-manual-${crypto.randomBytes(4).toString("hex")}`);
const POLICY = {
  leaseTtlMs: 1_500,
  transientAttempts: 4,
  transientBaseDelayMs: 20,
  transientMaxDelayMs: 200,
  replicationBaseDelayMs: 20,
  replicationMaxDelayMs: 200,
  signIn: { timeoutMs: 15_000, intervalMs: 250 },
} satisfies RotationPolicy; // sign-in outlasts the simulator's 2 s new-secret window

beforeAll(async () => {
  sim = await startSimForPortal({ blob: true });
  // No WORKBENCH_URL in this process: the hand-off is manual.
  process.env.ENTRA_AUTHORITY = `${sim.url}/organizations`;
  configureDb(testDbOptions(dataDir));
  await migrate();
}, 60_000);
afterAll(async () => {
  await closeDb();
  await sim.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const tokens: TokenProvider = async (resource) => ({
  ok: true,
  token: await simToken(sim, { upn: OWNER, resource }),
  expiresOn: new Date(Date.now() + 3_600_000),
});

const sessionOf = (upn: string) => newSession({ tenantId: TENANT, upn });

async function vendorApp(): Promise<{ id: string; appId: string; passwordCredentials: { keyId: string; displayName: string | null }[] }> {
  const apps = (await simState(sim)).graph.applications as {
    id: string;
    appId: string;
    uniqueName: string;
    passwordCredentials: { keyId: string; displayName: string | null }[];
  }[];
  const app = apps.find((a) => a.uniqueName === defaultRunConfig().vendor.appUniqueName);
  if (!app) throw new Error("vendor app missing");
  return app;
}

async function signInStatus(appId: string, secret: string): Promise<{ status: number; codes: number[] }> {
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
  return { status: res.status, codes: ((await res.json()) as { error_codes?: number[] }).error_codes ?? [] };
}

describe("manual-mode rotation", () => {
  it("reveals the new secret once and removes the old one only after the acknowledgement; an unsealed leftover is removed; an app that can no longer read the clusters stops the next rotation", async () => {
    const config = defaultRunConfig();
    const run = await createRun({ tenantId: TENANT, createdByUserId: null, createdByUpn: OWNER, config, steps: STEP_IDS });
    expect(
      await setRunPlan(run.id, (await planRun({ config, tenantId: TENANT, tokens, modules: STEP_MODULES, runId: run.id })) as never),
    ).toBe(true);
    expect(await confirmRunPlan(run.id, OWNER)).toBe(true);
    expect(await setRunStatus(run.id, "running", { from: ["planned"] })).toBe(true);
    expect(
      await runRemainingSteps({ runId: run.id, tenantId: TENANT, actor: { userId: null, upn: OWNER }, tokens, modules: STEP_MODULES }),
    ).toEqual({ outcome: "completed" });

    const owner = await sessionOf(OWNER);
    const first = await revealClientSecret(owner, run.id);
    if (!first.ok) throw new Error(first.message);
    expect(await acknowledgeHandoff(owner, run.id)).toMatchObject({ ok: true });
    const app = await vendorApp();
    const oldKeyId = app.passwordCredentials[0]?.keyId;

    // What an attempt that died between Graph's answer and the seal leaves behind: a run secret nobody holds.
    const graphToken = await simToken(sim, { upn: OWNER, resource: "graph" });
    const leftover = await simJson(sim, "POST", `/v1.0/applications/${app.id}/addPassword`, {
      body: { passwordCredential: { displayName: runCredentialName(run.id) } },
      headers: { authorization: `Bearer ${graphToken}` },
    });
    expect(leftover.status).toBe(200);

    const started = await requestRotation(owner, run.id, { tokens, policy: POLICY, wait: true });
    expect(started).toMatchObject({ ok: true, data: { outcome: { status: "waiting_ack" } } });
    const during = await vendorApp();
    expect(during.passwordCredentials.map((c) => c.keyId)).not.toContain(leftover.body.keyId);
    expect(during.passwordCredentials).toHaveLength(2);
    expect(during.passwordCredentials.map((c) => c.keyId)).toContain(oldKeyId);
    expect(await getCredentialStatus(owner, run.id)).toMatchObject({
      mode: "manual",
      rotation: { status: "waiting_ack", acknowledged: false },
    });
    expect(await requestRotation(owner, run.id, { tokens, policy: POLICY, wait: true })).toMatchObject({ ok: false, code: "awaiting_ack" });

    // The hand-off panel offers the new secret once.
    expect(await getManualHandoff(owner, run.id)).toMatchObject({ secret: { stored: true, revealed: null }, acknowledgedAt: null });
    const second = await revealClientSecret(owner, run.id);
    if (!second.ok) throw new Error(second.message);
    expect(second.data.value).not.toBe(first.data.value);
    expect(await revealClientSecret(owner, run.id)).toMatchObject({ ok: false, code: "already_revealed" });
    expect((await signInStatus(app.appId, second.data.value)).status).toBe(200);
    expect((await signInStatus(app.appId, first.data.value)).status).toBe(200);

    expect(await acknowledgeHandoff(owner, run.id)).toMatchObject({ ok: true });
    expect((await getCredentialStatus(owner, run.id))?.rotation?.acknowledged).toBe(true);
    expect(await requestRotation(owner, run.id, { tokens, policy: POLICY, wait: true })).toMatchObject({
      ok: true,
      data: { resumed: true, outcome: { status: "done" } },
    });
    const after = await vendorApp();
    expect(after.passwordCredentials).toHaveLength(1);
    expect(after.passwordCredentials[0]?.keyId).not.toBe(oldKeyId);
    expect(await signInStatus(app.appId, first.data.value)).toEqual({ status: 401, codes: [7000215] });
    expect((await signInStatus(app.appId, second.data.value)).status).toBe(200);
    expect(await getCredentialStatus(owner, run.id)).toMatchObject({
      keyId: after.passwordCredentials[0]?.keyId,
      level: "ok",
      rotation: { status: "done" },
    });

    const ops = (await listOperations(run.id)).filter((o) => o.stepId === "credential-rotation").map((o) => `${o.kind}:${o.status}`);
    expect(ops).toEqual(["delete:succeeded", "create:succeeded", "delete:succeeded"]);

    // Without its role assignments the app can't read the clusters: the new secret is not handed off, the old one stays.
    const sp = ((await simState(sim)).graph.servicePrincipals as { id: string; appId: string }[]).find((p) => p.appId === app.appId);
    const armToken = await simToken(sim, { upn: OWNER, resource: "arm" });
    const arm = { authorization: `Bearer ${armToken}` };
    for (const sub of config.subscriptions) {
      const filter = encodeURIComponent(`principalId eq '${sp?.id ?? ""}'`);
      const list = await simJson(
        sim,
        "GET",
        `/subscriptions/${sub.id}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01&$filter=${filter}`,
        { headers: arm },
      );
      for (const a of list.body.value as { id: string }[])
        expect((await simJson(sim, "DELETE", `${a.id}?api-version=2022-04-01`, { headers: arm })).status).toBe(200);
    }
    const keyInUse = after.passwordCredentials[0]?.keyId;
    const refused = await requestRotation(owner, run.id, { tokens, policy: POLICY, wait: true });
    expect(refused).toMatchObject({ ok: true, data: { outcome: { status: "failed", error: { code: "verify_failed" } } } });
    expect(refused.ok && refused.data.outcome?.status === "failed" ? refused.data.outcome.error.message : "").toMatch(
      /can't list the AKS clusters of .*role assignments/,
    );
    expect((await vendorApp()).passwordCredentials.map((c) => c.keyId)).toContain(keyInUse);
    expect(await getCredentialStatus(owner, run.id)).toMatchObject({ keyId: keyInUse, rotation: { status: "failed" } });
    expect(await getManualHandoff(owner, run.id)).toMatchObject({ secret: { stored: false } });
  }, 120_000);
});
