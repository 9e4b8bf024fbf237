import { describe, expect, it } from "vitest";
import type { CrossTenantRunDetail } from "@/lib/db/vendor-runs";
import type { StepRun } from "@/lib/db/step-runs";
import { testConfig } from "@/test/support/engine";
import { STEP_IDS } from "@/lib/steps/registry";
import { safeError, safeText, shapeRun, shapeRunDetail } from "./runs";

const NOW = new Date("2026-11-27T08:00:00Z");
const TENANT = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";
const JWT = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJjODhjZGFlNyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
const SECRET = "abc8Q~Zt3m9VvS0kq1Wl2Xy3Az4By5Cx6Dw7Ev8F";

function step(stepId: string, position: number, extra: Partial<StepRun> = {}): StepRun {
  return {
    id: `s-${position}`,
    runId: "RUN",
    stepId,
    position,
    status: "done",
    progress: null,
    outputs: { clientSecret: SECRET, token: JWT, secret: { hint: "abc", expiresAt: "2027-01-01" } },
    error: null,
    attempts: 1,
    leaseOwner: null,
    leaseExpiresAt: null,
    startedAt: new Date("2026-11-27T07:00:00Z"),
    finishedAt: new Date("2026-11-27T07:01:00Z"),
    updatedAt: new Date("2026-11-27T07:01:00Z"),
    ...extra,
  };
}

function record(steps: StepRun[]): CrossTenantRunDetail {
  return {
    run: {
      id: "RUNRUNRUNRUNRUNRUNRUNRUN",
      tenantId: TENANT,
      createdByUserId: null,
      createdByUpn: "owner@contoso.onmicrosoft.com",
      status: "failed",
      config: { ...testConfig(), tenantId: TENANT },
      plan: null,
      planConfirmedAt: new Date("2026-11-27T06:59:00Z"),
      planConfirmedByUpn: "owner@contoso.onmicrosoft.com",
      createdAt: new Date("2026-11-27T06:58:00Z"),
      updatedAt: new Date("2026-11-27T07:05:00Z"),
      steps,
    },
    tenantName: "Contoso",
    lastOperation: { actorUpn: "secops@contoso.onmicrosoft.com", at: new Date("2026-11-27T07:04:00Z") },
    lastDecision: { actorUpn: "owner@contoso.onmicrosoft.com", at: new Date("2026-11-27T07:06:00Z"), action: "run.failed" },
    operations: [
      {
        id: "1",
        runId: "RUN",
        stepId: "role-assignments",
        key: "k",
        kind: "create",
        target: `/subscriptions/${TENANT}/providers/Microsoft.Authorization/roleAssignments/x`,
        status: "failed",
        resourceId: null,
        requestId: "0f8e2c1a-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
        errorCode: "forbidden",
        errorMessage:
          '{"error":{"code":"AuthorizationFailed","message":"The client \'x\' with object id \'y\' does not have authorization"}}',
        startedAt: new Date("2026-11-27T07:03:00Z"),
        completedAt: new Date("2026-11-27T07:04:00Z"),
        actorUpn: "secops@contoso.onmicrosoft.com",
      },
    ],
    auditEvents: [
      {
        id: "9",
        at: new Date("2026-11-27T07:06:00Z"),
        tenantId: TENANT,
        actorUserId: null,
        actorUpn: "owner@contoso.onmicrosoft.com",
        action: "run.failed",
        target: "RUN",
        outcome: "failure",
        detail: { raw: '{"error":{"code":"AuthorizationFailed"}}', secret: SECRET },
        runId: "RUN",
        prevHash: null,
        hash: null,
      },
    ],
    olderAuditEvents: "8",
  };
}

const failedRun = () =>
  record([
    step("storage", 0),
    step("diagnostic-settings", 1),
    step("app-registration", 2),
    step("custom-role", 3),
    step("role-assignments", 4, {
      status: "needs_admin",
      error: {
        code: "forbidden",
        message: `You don't have permission to assign roles in ${TENANT}. Ask an Owner of the subscription.`,
        requiredRole: "Owner",
        raw: { error: { code: "AuthorizationFailed" } },
        token: JWT,
      } as never,
    }),
    step("workbench-handoff", 5, { status: "pending", outputs: null }),
    step("verification", 6, { status: "pending", outputs: null }),
  ]);

describe("vendor run shaping", () => {
  it("lists the tenant name, every step's status, our error code and message, last activity and the last actor", () => {
    const row = shapeRun(failedRun(), { presenter: false, now: NOW });
    expect(row.tenantLabel).toBe("Contoso");
    expect(row.steps.map((s) => s.stepId)).toEqual(STEP_IDS);
    // The steps after the one that needs another admin are held back by it, as the customer's stepper shows.
    expect(row.steps.map((s) => s.status)).toEqual(["done", "done", "done", "done", "needs_admin", "held_back", "held_back"]);
    expect(row.steps.map((s) => s.waitsFor)).toEqual([[], [], [], [], [], ["Role assignments"], ["Role assignments"]]);
    expect(row.steps[4]?.error).toEqual({
      code: "forbidden",
      message: `You don't have permission to assign roles in ${TENANT}. Ask an Owner of the subscription.`,
    });
    expect(row.lastActivityAt).toEqual(new Date("2026-11-27T07:06:00Z"));
    expect(row.actor).toEqual({ upn: "owner@contoso.onmicrosoft.com", now: false });
    expect(row.clusterCount).toBe(1);
  });

  it("names the lease holder's admin while a step is executing, and interrupted once the lease lapsed", () => {
    const live = record([
      step("storage", 0, {
        status: "running",
        leaseOwner: "exec-1",
        leaseExpiresAt: new Date(NOW.getTime() + 30_000),
        progress: { done: 1, total: 2, label: "Creating stauditeastus01" },
      }),
    ]);
    const row = shapeRun(live, { presenter: false, now: NOW });
    expect(row.actor).toEqual({ upn: "secops@contoso.onmicrosoft.com", now: true });
    expect(row.steps[0]).toMatchObject({ status: "running", progress: "Creating stauditeastus01" });

    const lapsed = shapeRun(record([step("storage", 0, { status: "running", leaseExpiresAt: new Date(NOW.getTime() - 1) })]), {
      presenter: false,
      now: NOW,
    });
    expect(lapsed.steps[0]?.status).toBe("interrupted");
    expect(lapsed.actor.now).toBe(false);
  });

  it("never carries step outputs, raw Azure payloads, tokens or secrets", () => {
    const detail = shapeRunDetail(failedRun(), { presenter: false, now: NOW });
    const text = JSON.stringify(detail);
    for (const leak of [SECRET, JWT, "AuthorizationFailed", "hint", "clientSecret", '"raw"', "does not have authorization"])
      expect(text).not.toContain(leak);
    expect(detail.operations[0]?.error).toEqual({ code: "forbidden", message: expect.stringContaining("could not describe safely") });
    expect(detail.auditEvents[0]).toEqual({
      id: "9",
      at: new Date("2026-11-27T07:06:00Z"),
      actorUpn: "owner@contoso.onmicrosoft.com",
      action: "run.failed",
      outcome: "failure",
    });
    expect(detail.olderAuditEvents).toBe("8");
  });

  it("shows a step done with exceptions: which cluster, why and what to do, never its id or the step's outputs", () => {
    const clusterId = `/subscriptions/${TENANT}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-web`;
    const attention = [
      {
        kind: "cluster" as const,
        subject: "aks-web",
        resourceId: clusterId,
        code: "diagnostic_settings_limit",
        reason: "It already has 5 diagnostic settings.",
        action: "Remove one, then extend.",
      },
    ];
    const rec = record([step("storage", 0), step("diagnostic-settings", 1, { attention })]);
    const row = shapeRun({ ...rec, run: { ...rec.run, status: "completed" } }, { presenter: false, now: NOW });
    expect(row.steps[1]).toMatchObject({
      status: "attention",
      error: null,
      attention: [{ subject: "aks-web", reason: "It already has 5 diagnostic settings.", action: "Remove one, then extend." }],
    });
    expect(row.steps[0]).toMatchObject({ status: "done", attention: [] });
    expect(row.clustersNeedingAttention).toBe(1);
    expect(JSON.stringify(row)).not.toContain(clusterId);
    expect(JSON.stringify(row)).not.toContain(SECRET);
  });

  it("masks every id in presenter mode and shows a masked tenant id when the name is unknown", () => {
    const rec = { ...failedRun(), tenantName: null };
    const detail = shapeRunDetail(rec, { presenter: true, now: NOW });
    expect(JSON.stringify(detail)).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i);
    expect(detail.tenantLabel).toBe("c88c…e8fc");
    expect(detail.steps[4]?.error?.message).toContain("c88c…e8fc");
  });

  it("replaces a stored error that isn't ours with a generic line and redacts secrets inside messages", () => {
    expect(safeError({ error: { code: "AuthorizationFailed", message: "raw" } }, false)).toEqual({
      code: "unknown",
      message: expect.stringContaining("could not describe safely"),
    });
    expect(safeError({ code: "AuthorizationFailed", message: "x" }, false)?.code).toBe("unknown");
    expect(safeText(`Token ${JWT} and secret ${SECRET} and Bearer abc.def`, false)).toBe(
      "Token [redacted] and secret [redacted] and [redacted]",
    );
    expect(safeText("<html><body>502 Bad Gateway</body></html>", false)).toContain("could not describe safely");
    expect(safeText("x".repeat(1000), false).length).toBeLessThanOrEqual(400);
  });
});
