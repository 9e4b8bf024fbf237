import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { acquireStepLease, getRunSecret, listAuditEvents, releaseStepLease, type JsonValue } from "@/lib/db";
import { buildStepContext } from "@/lib/engine/context";
import { ACTOR, okTokens, runningRun, setupEngineDb, testConfig, newSession } from "@/test/support/engine";
import { CLIENT_SECRET_KIND } from "@/lib/steps/app-registration";
import { STEP_IDS } from "@/lib/steps/registry";
import { acknowledgeHandoff, getManualHandoff, revealClientSecret } from "./manual-handoff";

setupEngineDb("manual-handoff");

const SECRET = "Xy9~s3cr3t-value-that-must-never-leak";
const EXPIRES = new Date(Date.now() + 180 * 86_400_000);

const sessionOf = (tenantId: string, upn: string) => newSession({ tenantId, upn });

/** A run whose six steps are done, the hand-off in `mode`, and whose client secret the engine sealed. */
async function handedOffRun(mode: "manual" | "api" = "manual") {
  const run = await runningRun();
  const outputs: Record<string, JsonValue> = {
    storage: {
      accounts: [
        {
          region: "eastus",
          subscriptionId: "sub",
          resourceGroup: "rg-audit",
          name: "stauditeastus01",
          id: "/subscriptions/sub/x",
          blobEndpoint: "https://x",
          adopted: false,
        },
      ],
    },
    "app-registration": {
      applicationObjectId: "obj",
      appId: "app-client-id",
      servicePrincipalId: "sp",
      consentGranted: true,
      secret: { keyId: "key-1", hint: "Xy9", expiresAt: EXPIRES.toISOString() },
    },
    "workbench-handoff": mode === "manual" ? { mode: "manual" } : { mode: "api", deviceId: "d", deviceName: "n" },
  };
  for (const stepId of STEP_IDS) {
    expect(await acquireStepLease(run.id, stepId, "test:1", 60_000)).toBe(true);
    if (stepId === "app-registration") {
      const { ctx } = buildStepContext({
        runId: run.id,
        tenantId: run.tenantId,
        stepId,
        actor: ACTOR,
        config: { ...testConfig(), tenantId: run.tenantId },
        tokens: okTokens,
        leaseOwner: "test:1",
        steps: [],
      });
      await ctx.secrets.put(CLIENT_SECRET_KIND, SECRET, { keyId: "key-1", hint: "Xy9", expiresAt: EXPIRES });
    }
    expect(await releaseStepLease(run.id, stepId, "test:1", { status: "done", outputs: outputs[stepId] ?? { resourceId: stepId } })).toBe(
      true,
    );
  }
  return run;
}

describe("manual hand-off", () => {
  it("shows the values without the secret, reveals it once, and acknowledges by deleting it", async () => {
    const run = await handedOffRun();
    const admin = await sessionOf(run.tenantId, "admin@contoso.example");
    const other = await sessionOf(run.tenantId, "second@contoso.example");

    const view = await getManualHandoff(admin, run.id);
    expect(view).toMatchObject({
      tenantId: run.tenantId,
      clientId: "app-client-id",
      storageAccounts: ["stauditeastus01"],
      secret: { hint: "Xy9", stored: true, revealed: null },
      acknowledgedAt: null,
      acknowledgedBy: null,
    });
    expect(view?.secret.expiresAt?.getTime()).toBe(EXPIRES.getTime());
    expect(JSON.stringify(view)).not.toContain(SECRET);

    expect(await revealClientSecret(admin, run.id)).toEqual({ ok: true, data: { value: SECRET } });
    const second = await revealClientSecret(other, run.id);
    expect(second).toMatchObject({ ok: false, code: "already_revealed" });
    expect(second.ok ? "" : second.message).toContain("admin@contoso.example");
    expect(JSON.stringify(second)).not.toContain(SECRET);
    expect(await revealClientSecret(admin, run.id)).toMatchObject({ ok: false, code: "already_revealed" });

    const afterReveal = await getManualHandoff(other, run.id);
    expect(afterReveal?.secret).toMatchObject({ stored: false, revealed: { by: "admin@contoso.example" } });
    expect(JSON.stringify(afterReveal)).not.toContain(SECRET);

    const ack = await acknowledgeHandoff(other, run.id);
    expect(ack).toMatchObject({ ok: true, data: { by: "second@contoso.example" } });
    expect(await getRunSecret(run.id, CLIENT_SECRET_KIND)).toBeNull();
    const done = await getManualHandoff(admin, run.id);
    expect(done?.acknowledgedBy).toBe("second@contoso.example");
    expect(done?.acknowledgedAt).toBeInstanceOf(Date);
    expect(await acknowledgeHandoff(admin, run.id)).toMatchObject({ ok: false, code: "conflict" });
    expect(await revealClientSecret(admin, run.id)).toMatchObject({ ok: false });

    const actions = (await listAuditEvents(run.tenantId, { limit: 100 }))
      .filter((e) => e.target === run.id)
      .map((e) => `${e.action}:${e.outcome}:${e.actorUpn}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        "handoff.secret_revealed:success:admin@contoso.example",
        "handoff.secret_revealed:denied:second@contoso.example",
        "handoff.acknowledged:success:second@contoso.example",
      ]),
    );
    expect(JSON.stringify(await listAuditEvents(run.tenantId, { limit: 100 }))).not.toContain(SECRET);
  });

  it("acknowledging without a reveal deletes the stored secret; then it can't be revealed", async () => {
    const run = await handedOffRun();
    const admin = await sessionOf(run.tenantId, "admin@contoso.example");
    expect(await acknowledgeHandoff(admin, run.id)).toMatchObject({ ok: true });
    expect(await getRunSecret(run.id, CLIENT_SECRET_KIND)).toBeNull();
    expect(await getManualHandoff(admin, run.id)).toMatchObject({
      secret: { stored: false, revealed: null },
      acknowledgedBy: "admin@contoso.example",
    });
    expect(await revealClientSecret(admin, run.id)).toMatchObject({ ok: false, code: "conflict" });
  });

  it("only one of two concurrent reveals gets the value", async () => {
    const run = await handedOffRun();
    const a = await sessionOf(run.tenantId, "a@contoso.example");
    const b = await sessionOf(run.tenantId, "b@contoso.example");
    const results = await Promise.all([revealClientSecret(a, run.id), revealClientSecret(b, run.id)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });

  it("gives another tenant nothing: null, refusals, and the secret stays stored", async () => {
    const run = await handedOffRun();
    const stranger = await sessionOf(crypto.randomUUID(), "admin@fabrikam.example");
    expect(await getManualHandoff(stranger, run.id)).toBeNull();
    expect(await revealClientSecret(stranger, run.id)).toMatchObject({ ok: false, code: "forbidden" });
    expect(await acknowledgeHandoff(stranger, run.id)).toMatchObject({ ok: false, code: "forbidden" });
    expect(await getRunSecret(run.id, CLIENT_SECRET_KIND)).not.toBeNull();
    expect(await getManualHandoff(await sessionOf(run.tenantId, "admin@contoso.example"), run.id)).toMatchObject({
      secret: { stored: true },
      acknowledgedAt: null,
    });
  });

  it("in presenter mode masks the ids, hides the hint and refuses the reveal without consuming the secret", async () => {
    const run = await handedOffRun();
    const admin = await sessionOf(run.tenantId, "admin@contoso.example");
    const view = await getManualHandoff(admin, run.id, { presenter: true });
    expect(view).toMatchObject({ masked: true, clientId: "app-…t-id", secret: { hint: "", stored: true } });
    expect(view?.tenantId).not.toBe(run.tenantId);
    expect(JSON.stringify(view)).not.toContain(run.tenantId);
    expect(JSON.stringify(view)).not.toContain("Xy9");

    const refused = await revealClientSecret(admin, run.id, { presenter: true });
    expect(refused).toMatchObject({ ok: false, code: "presenter_mode" });
    expect(JSON.stringify(refused)).not.toContain(SECRET);
    expect(await getRunSecret(run.id, CLIENT_SECRET_KIND)).not.toBeNull();
    const actions = (await listAuditEvents(run.tenantId, { limit: 100 }))
      .filter((e) => e.target === run.id)
      .map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toContain("handoff.secret_revealed:denied");

    expect(await getManualHandoff(admin, run.id)).toMatchObject({
      masked: false,
      tenantId: run.tenantId,
      clientId: "app-client-id",
      secret: { hint: "Xy9" },
    });
    expect(await revealClientSecret(admin, run.id)).toEqual({ ok: true, data: { value: SECRET } });
  });

  it("has no manual hand-off when the hand-off went through the Workbench API", async () => {
    const run = await handedOffRun("api");
    const admin = await sessionOf(run.tenantId, "admin@contoso.example");
    expect(await getManualHandoff(admin, run.id)).toBeNull();
    expect(await revealClientSecret(admin, run.id)).toMatchObject({ ok: false, code: "forbidden" });
  });
});
