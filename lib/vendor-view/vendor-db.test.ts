// The vendor view on a real (PGlite) database: the cross-tenant query, its audit trail, and that vendor staff can't act.
import crypto from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { auditDownload, runAuditTrail } from "@/lib/audit/access";
import {
  acquireStepLease,
  createRun,
  getRunForTenant,
  getRunSecret,
  listAuditChain,
  listRunsAcrossTenants,
  recordAuditEvent,
  recordIntent,
  recordOutcome,
  releaseStepLease,
  setRunPlan,
  upsertTenantName,
  type JsonValue,
} from "@/lib/db";
import { buildStepContext } from "@/lib/engine/context";
import { ACTOR, okTokens, runningRun, setupEngineDb, testConfig, newSession } from "@/test/support/engine";
import { acknowledgeHandoff, getManualHandoff, revealClientSecret } from "@/lib/onboarding/manual-handoff";
import { confirmAndStart, continueRun, getRunView, replan } from "@/lib/onboarding/run-control";
import { CLIENT_SECRET_KIND } from "@/lib/steps/app-registration";
import { STEP_IDS } from "@/lib/steps/registry";
import { listVendorRuns, openVendorRun } from "./runs";

const VENDOR = "e7e1d5a0-3c4b-4f7e-9d2a-5b6c7d8e9f01";
// Before setupEngineDb's first env() parse: env() caches it.
vi.stubEnv("VENDOR_TENANT_ID", VENDOR);
setupEngineDb("vendor-view");

const SECRET = "Ab1Q~vendor-view-secret-that-must-never-leak";

const sessionOf = (tenantId: string, upn: string) => newSession({ tenantId, upn });

/** A finished run with a manual hand-off whose client secret is still stored. */
async function finishedRun(tenantId: string) {
  const run = await runningRun(tenantId);
  for (const stepId of STEP_IDS) {
    expect(await acquireStepLease(run.id, stepId, "test:1", 60_000)).toBe(true);
    if (stepId === "app-registration") {
      const { ctx } = buildStepContext({
        runId: run.id,
        tenantId,
        stepId,
        actor: ACTOR,
        config: { ...testConfig(), tenantId },
        tokens: okTokens,
        leaseOwner: "test:1",
        steps: [],
      });
      await ctx.secrets.put(CLIENT_SECRET_KIND, SECRET, { keyId: "k", hint: "Ab1", expiresAt: new Date(Date.now() + 86_400_000) });
    }
    const outputs: JsonValue =
      stepId === "app-registration"
        ? {
            applicationObjectId: "o",
            appId: "a",
            servicePrincipalId: "s",
            consentGranted: true,
            secret: { keyId: "k", hint: "Ab1", expiresAt: new Date().toISOString() },
          }
        : stepId === "workbench-handoff"
          ? { mode: "manual" }
          : { resourceId: stepId };
    expect(await releaseStepLease(run.id, stepId, "test:1", { status: "done", outputs })).toBe(true);
  }
  return run;
}

describe("vendor view on the database", () => {
  it("lists runs of every tenant with names, statuses and the last actor, and never a draft", async () => {
    const contoso = crypto.randomUUID();
    const fabrikam = crypto.randomUUID();
    await upsertTenantName({ id: contoso, displayName: "Contoso", defaultDomain: "contoso.onmicrosoft.com" });
    const a = await runningRun(contoso);
    const b = await finishedRun(fabrikam);
    const draft = await createRun({
      tenantId: contoso,
      createdByUserId: null,
      createdByUpn: ACTOR.upn,
      config: { ...testConfig(), tenantId: contoso },
      steps: STEP_IDS,
    });

    expect(await acquireStepLease(a.id, "storage", "exec-7", 60_000)).toBe(true);
    const op = await recordIntent({
      runId: a.id,
      stepId: "storage",
      key: "storage.create:x",
      kind: "create",
      target: "/subscriptions/x",
      actorUpn: "secops@contoso.example",
      leaseOwner: "exec-7",
    });
    await recordOutcome(op, {
      status: "failed",
      errorCode: "forbidden",
      errorMessage: "You don't have permission to create the storage account.",
    });
    await recordAuditEvent({
      tenantId: contoso,
      runId: a.id,
      actorUpn: "owner@contoso.example",
      action: "run.continued",
      target: a.id,
      outcome: "success",
    });

    const vendor = await sessionOf(VENDOR, "engineer@vendor.example");
    // A vendor view is no customer activity: it must not become the run's "last actor".
    expect(await openVendorRun(vendor, a.id, { presenter: false })).not.toBeNull();

    const records = await listRunsAcrossTenants({ limit: 500 });
    const ids = records.map((r) => r.run.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(ids).not.toContain(draft.id);
    const ra = records.find((r) => r.run.id === a.id);
    expect(ra).toMatchObject({
      tenantName: "Contoso",
      lastOperation: { actorUpn: "secops@contoso.example" },
      lastDecision: { actorUpn: "owner@contoso.example", action: "run.continued" },
    });
    expect(records.find((r) => r.run.id === b.id)?.tenantName).toBeNull();

    const rows = await listVendorRuns(vendor, { presenter: false });
    const row = rows?.find((r) => r.runId === a.id);
    // The storage step's lease is held: its execution's admin is acting now.
    expect(row).toMatchObject({ tenantLabel: "Contoso", status: "running", actor: { upn: "secops@contoso.example", now: true } });
    expect(row?.steps[0]).toMatchObject({ stepId: "storage", status: "running" });
    expect(rows?.find((r) => r.runId === b.id)).toMatchObject({ tenantLabel: fabrikam, status: "running" });
    expect(rows?.find((r) => r.runId === b.id)?.steps.every((s) => s.status === "done")).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(SECRET);
  });

  it("records each vendor view in the customer's audit chain, and shows the detail without secrets", async () => {
    const tenant = crypto.randomUUID();
    const run = await finishedRun(tenant);
    const vendor = await sessionOf(VENDOR, "engineer@vendor.example");
    const detail = await openVendorRun(vendor, run.id, { presenter: false });
    expect(detail?.steps.map((s) => s.status)).toEqual(STEP_IDS.map(() => "done"));
    expect(JSON.stringify(detail)).not.toContain(SECRET);
    expect(JSON.stringify(detail)).not.toContain("Ab1");

    const chain = await listAuditChain({ tenantId: tenant, runId: run.id });
    expect(chain.at(-1)).toMatchObject({
      tenantId: tenant,
      actorUpn: "engineer@vendor.example",
      actorUserId: vendor.user.id,
      action: "vendor.run_viewed",
      target: run.id,
      outcome: "success",
    });
    // The customer's own admin sees it in the run's trail.
    const admin = await sessionOf(tenant, "admin@customer.example");
    expect((await runAuditTrail(admin, run.id))?.events[0]).toMatchObject({
      action: "vendor.run_viewed",
      actorUpn: "engineer@vendor.example",
    });
  });

  it("gives customer admins nothing: no list, no detail, no audit event", async () => {
    const tenant = crypto.randomUUID();
    const run = await runningRun(tenant);
    const admin = await sessionOf(tenant, "admin@customer.example");
    expect(await listVendorRuns(admin, { presenter: false })).toBeNull();
    expect(await listVendorRuns(null, { presenter: false })).toBeNull();
    expect(await openVendorRun(admin, run.id, { presenter: false })).toBeNull();
    expect(await listAuditChain({ tenantId: tenant, runId: run.id })).toEqual([]);
  });

  it("refuses vendor staff every run action and every audit download of a customer, and changes nothing", async () => {
    const tenant = crypto.randomUUID();
    const planned = await createRun({
      tenantId: tenant,
      createdByUserId: null,
      createdByUpn: ACTOR.upn,
      config: { ...testConfig(), tenantId: tenant },
      steps: STEP_IDS,
    });
    expect(await setRunPlan(planned.id, { computedAt: new Date().toISOString(), steps: [] })).toBe(true);
    const running = await runningRun(tenant);
    const finished = await finishedRun(tenant);
    const vendor = await sessionOf(VENDOR, "engineer@vendor.example");

    // app/onboarding/actions.ts: confirmPlanAction, continueRunAction, replanAction (run-control).
    expect(await getRunView(vendor, planned.id)).toBeNull();
    expect(await confirmAndStart(vendor, planned.id, "0".repeat(64))).toMatchObject({ ok: false, code: "forbidden" });
    expect(await replan(vendor, planned.id)).toMatchObject({ ok: false, code: "forbidden" });
    expect(await continueRun(vendor, running.id)).toMatchObject({ ok: false, code: "forbidden" });
    // app/onboarding/handoff-actions.ts: revealSecretAction, acknowledgeHandoffAction.
    expect(await getManualHandoff(vendor, finished.id)).toBeNull();
    const reveal = await revealClientSecret(vendor, finished.id);
    expect(reveal.ok).toBe(false);
    expect(JSON.stringify(reveal)).not.toContain(SECRET);
    expect((await acknowledgeHandoff(vendor, finished.id)).ok).toBe(false);
    // app/onboarding/[runId]/audit and app/audit: a bare 403, and the vendor's own tenant trail has no customer event.
    for (const run of [planned, running, finished]) {
      for (const format of ["jsonl", "csv"])
        expect(await auditDownload(vendor, { runId: run.id, format })).toEqual({ ok: false, status: 403 });
      expect(await runAuditTrail(vendor, run.id)).toBeNull();
    }
    const own = await auditDownload(vendor, { format: "jsonl" });
    expect(own.ok && (await new Response(own.body).text())).not.toContain(tenant);

    expect((await getRunForTenant(planned.id, tenant))?.planConfirmedAt).toBeNull();
    expect((await getRunForTenant(running.id, tenant))?.status).toBe("running");
    expect(await getRunSecret(finished.id, CLIENT_SECRET_KIND)).not.toBeNull();
    expect(await listAuditChain({ tenantId: tenant })).toEqual([]);
  });
});
