// Shared vitest suite for the vendor view's cross-tenant queries and tenant names, run against PGlite and PostgreSQL. Test-only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { recordAuditEvent } from "@/lib/db/audit";
import { closeDb, configureDb, migrate, type DbOptions } from "@/lib/db/client";
import { recordIntent, recordOutcome } from "@/lib/db/operations";
import { createRun, setRunPlan } from "@/lib/db/runs";
import { tenantNames, upsertTenantName } from "@/lib/db/tenants";
import { getRunAcrossTenants, listRunsAcrossTenants, VENDOR_VIEW_ACTION } from "@/lib/db/vendor-runs";

const STEPS = ["storage", "diagnostic-settings"];
let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now()}-${++seq}`;

/** Registers the vendor-view query tests on the database that `options()` describes (resolved in beforeAll). */
export function describeVendorQueries(label: string, options: () => DbOptions): void {
  describe(`lib/db vendor-view queries on ${label}`, () => {
    beforeAll(async () => {
      configureDb(options());
      await migrate();
    }, 120_000);
    afterAll(() => closeDb());

    const plannedRun = async (tenantId: string) => {
      const run = await createRun({
        tenantId,
        createdByUserId: null,
        createdByUpn: "owner@customer.example",
        config: { n: 1 },
        steps: STEPS,
      });
      expect(await setRunPlan(run.id, { steps: [] })).toBe(true);
      return run;
    };

    it("stores a tenant's name and refreshes it on a rename", async () => {
      const id = unique("tenant");
      await upsertTenantName({ id, displayName: "Contoso", defaultDomain: "contoso.onmicrosoft.com" });
      await upsertTenantName({ id, displayName: "Contoso Ltd", defaultDomain: null });
      const names = await tenantNames([id, id, unique("unknown")]);
      expect(names.size).toBe(1);
      expect(names.get(id)).toMatchObject({ displayName: "Contoso Ltd", defaultDomain: null });
      expect(await tenantNames([])).toEqual(new Map());
    });

    it("lists runs of every tenant with the latest operation and the latest non-vendor audit event of each", async () => {
      const a = unique("tenant-a");
      const b = unique("tenant-b");
      await upsertTenantName({ id: a, displayName: "Alpha", defaultDomain: null });
      const runA = await plannedRun(a);
      const runB = await plannedRun(b);
      const draft = await createRun({ tenantId: a, createdByUserId: null, createdByUpn: "x@a.example", config: {}, steps: STEPS });

      for (const upn of ["first@a.example", "second@a.example"]) {
        const op = await recordIntent({ runId: runA.id, stepId: "storage", key: unique("k"), kind: "create", target: "/t", actorUpn: upn });
        await recordOutcome(op, { status: "succeeded", resourceId: "/t" });
      }
      await recordAuditEvent({ tenantId: a, runId: runA.id, actorUpn: "owner@a.example", action: "run.continued", outcome: "success" });
      await recordAuditEvent({
        tenantId: a,
        runId: runA.id,
        actorUpn: "engineer@vendor.example",
        action: VENDOR_VIEW_ACTION,
        outcome: "success",
      });
      await recordAuditEvent({ tenantId: b, runId: runB.id, actorUpn: "admin@b.example", action: "run.created", outcome: "success" });

      const records = await listRunsAcrossTenants({ limit: 500 });
      const ids = records.map((r) => r.run.id);
      expect(ids).toEqual(expect.arrayContaining([runA.id, runB.id]));
      expect(ids).not.toContain(draft.id);
      const ra = records.find((r) => r.run.id === runA.id);
      expect(ra?.tenantName).toBe("Alpha");
      expect(ra?.run.steps.map((s) => s.stepId)).toEqual(STEPS);
      expect(ra?.lastOperation?.actorUpn).toBe("second@a.example");
      expect(ra?.lastDecision).toMatchObject({ actorUpn: "owner@a.example", action: "run.continued" });
      const rb = records.find((r) => r.run.id === runB.id);
      expect(rb).toMatchObject({ tenantName: null, lastOperation: null, lastDecision: { actorUpn: "admin@b.example" } });
      expect((await listRunsAcrossTenants({ limit: 1 })).length).toBe(1);
    });

    it("reads one run of any tenant with its operation log and a page of its audit events, newest first", async () => {
      const t = unique("tenant");
      const run = await plannedRun(t);
      const op = await recordIntent({
        runId: run.id,
        stepId: "storage",
        key: unique("k"),
        kind: "create",
        target: "/a",
        actorUpn: "owner@t.example",
      });
      await recordOutcome(op, { status: "failed", errorCode: "forbidden", errorMessage: "You don't have permission." });
      await recordAuditEvent({ tenantId: t, runId: run.id, actorUpn: "owner@t.example", action: "run.created", outcome: "success" });
      await recordAuditEvent({ tenantId: t, runId: run.id, actorUpn: "owner@t.example", action: "run.failed", outcome: "failure" });

      const detail = await getRunAcrossTenants(run.id);
      expect(detail?.run.tenantId).toBe(t);
      expect(detail?.operations.map((o) => [o.status, o.errorCode])).toEqual([["failed", "forbidden"]]);
      expect(detail?.auditEvents.map((e) => e.action)).toEqual(["run.failed", "run.created"]);
      expect(detail?.olderAuditEvents).toBeNull();
      const first = await getRunAcrossTenants(run.id, { limit: 1 });
      expect(first?.auditEvents.map((e) => e.action)).toEqual(["run.failed"]);
      expect(first?.olderAuditEvents).toBe(first?.auditEvents[0]?.id);
      const older = await getRunAcrossTenants(run.id, { limit: 1, before: first?.olderAuditEvents });
      expect(older).toMatchObject({ auditEvents: [{ action: "run.created" }], olderAuditEvents: null });
      expect(await getRunAcrossTenants("AAAAAAAAAAAAAAAAAAAAAAAA")).toBeNull();
    });
  });
}
