import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { acquireStepLease, listAuditEvents, releaseStepLease } from "@/lib/db";
import { runningRun, setupEngineDb, newSession } from "@/test/support/engine";
import { STEP_IDS } from "@/lib/steps/registry";
import { getAdminHandoff, HANDOFF_REQUESTED, requestAdminHandoff } from "./admin-handoff";

setupEngineDb("admin-handoff");

const sessionOf = (tenantId: string, upn: string) => newSession({ tenantId, upn });

const CONSENT_ERROR = {
  code: "forbidden",
  message:
    "You don't have permission to grant admin consent. It needs Cloud Application Administrator or Application Administrator. Ask a Global Administrator to grant it, or ask them to continue this step.",
  requiredRole: "Cloud Application Administrator or Application Administrator",
  whoCanAct: "a Global Administrator",
};

/** A run whose first two steps are done and whose app registration stopped for want of an Entra role. */
async function stuckRun() {
  const run = await runningRun();
  for (const stepId of STEP_IDS.slice(0, 3)) {
    expect(await acquireStepLease(run.id, stepId, "test:1", 60_000)).toBe(true);
    const outcome =
      stepId === "app-registration"
        ? { status: "needs_admin" as const, error: CONSENT_ERROR }
        : { status: "done" as const, outputs: { resourceId: stepId } };
    expect(await releaseStepLease(run.id, stepId, "test:1", outcome)).toBe(true);
  }
  return run;
}

describe("ask another admin", () => {
  it("names the role, records who asked, and shows the colleague a banner; another tenant can neither see nor ask", async () => {
    const run = await stuckRun();
    const asker = await sessionOf(run.tenantId, "ops@contoso.example");
    const colleague = await sessionOf(run.tenantId, "cloudadmin@contoso.example");
    const stranger = await sessionOf(crypto.randomUUID(), "admin@fabrikam.example");

    const before = await getAdminHandoff(asker, run.id);
    expect(before).toMatchObject({
      stepId: "app-registration",
      stepTitles: ["App registration"],
      requiredRole: CONSENT_ERROR.requiredRole,
      whoCanAct: CONSENT_ERROR.whoCanAct,
      request: null,
      askedByOther: false,
    });
    expect(before?.link).toMatch(new RegExp(`/onboarding/${run.id}$`));
    expect(before?.message).toContain(`needs ${CONSENT_ERROR.requiredRole}`);
    expect(before?.message).toContain("click Continue");
    expect(before?.message).toContain(before?.link);
    expect(decodeURIComponent(before?.mailto ?? "")).toContain(before?.link);

    expect(await getAdminHandoff(stranger, run.id)).toBeNull();
    expect(await requestAdminHandoff(stranger, run.id)).toMatchObject({ ok: false, code: "forbidden" });

    const asked = await requestAdminHandoff(asker, run.id);
    expect(asked).toMatchObject({ ok: true, data: { by: "ops@contoso.example" } });

    const mine = await getAdminHandoff(asker, run.id);
    expect(mine?.request?.byUpn).toBe("ops@contoso.example");
    expect(mine?.askedByOther).toBe(false);
    const theirs = await getAdminHandoff(colleague, run.id);
    expect(theirs).toMatchObject({ askedByOther: true, request: { byUpn: "ops@contoso.example" } });
    expect(theirs?.message).toContain("— ops@contoso.example");
    expect(await getAdminHandoff(stranger, run.id)).toBeNull();

    const events = (await listAuditEvents(run.tenantId, { limit: 50 })).filter((e) => e.action === HANDOFF_REQUESTED);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actorUpn: "ops@contoso.example",
      runId: run.id,
      outcome: "success",
      detail: { stepId: "app-registration", requiredRole: CONSENT_ERROR.requiredRole },
    });
    expect(await listAuditEvents(stranger.user.tenantId, { limit: 50 })).toEqual([]);
  });

  it("masks ids in presenter mode, forgets a request once the step stops again, and refuses when nothing is stuck", async () => {
    const run = await stuckRun();
    const asker = await sessionOf(run.tenantId, "ops@contoso.example");
    expect((await requestAdminHandoff(asker, run.id)).ok).toBe(true);
    expect((await getAdminHandoff(asker, run.id))?.request).not.toBeNull();

    // The colleague continued, and the step stopped again: the earlier request belongs to the earlier stop.
    const sub = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
    expect(await acquireStepLease(run.id, "app-registration", "test:2", 60_000)).toBe(true);
    expect(
      await releaseStepLease(run.id, "app-registration", "test:2", {
        status: "needs_admin",
        error: { ...CONSENT_ERROR, requiredRole: `Owner on /subscriptions/${sub}` },
      }),
    ).toBe(true);
    const again = await getAdminHandoff(asker, run.id, { presenter: true });
    expect(again?.request).toBeNull();
    expect(again?.requiredRole).toBe("Owner on /subscriptions/602d…2c7b");
    expect(JSON.stringify(again)).not.toContain(sub);

    expect(await acquireStepLease(run.id, "app-registration", "test:3", 60_000)).toBe(true);
    expect(await releaseStepLease(run.id, "app-registration", "test:3", { status: "done", outputs: {} })).toBe(true);
    expect(await getAdminHandoff(asker, run.id)).toBeNull();
    expect(await requestAdminHandoff(asker, run.id)).toMatchObject({ ok: false, code: "conflict" });
  });

  it("names every step waiting for another admin at once, in one request, and keeps it until one of them stops again", async () => {
    const run = await stuckRun();
    const asker = await sessionOf(run.tenantId, "ops@contoso.example");
    // The custom roles ran beside the app registration and stopped for Owner: two steps wait, for two roles.
    const OWNER_ERROR = {
      code: "forbidden",
      message: "Needs Owner.",
      requiredRole: "Owner on Production",
      whoCanAct: "an Owner of Production",
    };
    expect(await acquireStepLease(run.id, "custom-role", "test:4", 60_000)).toBe(true);
    expect(await releaseStepLease(run.id, "custom-role", "test:4", { status: "needs_admin", error: OWNER_ERROR })).toBe(true);

    const view = await getAdminHandoff(asker, run.id);
    expect(view).toMatchObject({
      stepId: "app-registration",
      stepIds: ["app-registration", "custom-role"],
      stepTitles: ["App registration", "Read-only AKS role"],
      requiredRole: `${CONSENT_ERROR.requiredRole} and ${OWNER_ERROR.requiredRole}`,
      whoCanAct: `${CONSENT_ERROR.whoCanAct} and ${OWNER_ERROR.whoCanAct}`,
    });
    expect(view?.message).toContain('stopped at "App registration" and "Read-only AKS role": it needs');
    expect(view?.message).toContain("The steps then run with your permissions.");

    expect((await requestAdminHandoff(asker, run.id)).ok).toBe(true);
    const events = await listAuditEvents(run.tenantId, { limit: 50 });
    expect(events.find((e) => e.action === HANDOFF_REQUESTED)?.detail).toMatchObject({
      stepId: "app-registration",
      stepIds: ["app-registration", "custom-role"],
    });
    expect((await getAdminHandoff(asker, run.id))?.request).not.toBeNull();

    // The colleague finished the custom roles; the app registration still waits, and the request still stands for it.
    expect(await acquireStepLease(run.id, "custom-role", "test:5", 60_000)).toBe(true);
    expect(await releaseStepLease(run.id, "custom-role", "test:5", { status: "done", outputs: {} })).toBe(true);
    const left = await getAdminHandoff(asker, run.id);
    expect(left).toMatchObject({ stepIds: ["app-registration"], stepTitles: ["App registration"] });
    expect(left?.request).not.toBeNull();
  });
});
