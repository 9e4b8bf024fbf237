import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { listAuditEvents } from "@/lib/db";
import { runningRun, setupEngineDb, testConfig, newSession } from "@/test/support/engine";
import { planExportDownload } from "./download";

setupEngineDb("plan-export");

const sessionOf = (tenantId: string, upn: string) => newSession({ tenantId, upn });

describe("plan export download", () => {
  it("serves the run's tenant both formats, audits each download, and refuses everyone else", async () => {
    const run = await runningRun();
    const admin = await sessionOf(run.tenantId, "admin@contoso.example");
    const stranger = await sessionOf(crypto.randomUUID(), "admin@fabrikam.example");
    const account = testConfig().storage[0]?.accountName ?? "";

    const cli = await planExportDownload(admin, { runId: run.id, format: "cli" });
    expect(cli).toMatchObject({ ok: true, contentType: "text/x-shellscript; charset=utf-8", filename: `aks-onboarding-${run.id}.sh` });
    expect(cli.ok && cli.body).toContain(`--name '${account}'`);
    const tf = await planExportDownload(admin, { runId: run.id, format: "terraform" });
    expect(tf).toMatchObject({ ok: true, filename: `aks-onboarding-${run.id}.tf` });
    expect(tf.ok && tf.body).toContain(`name                             = "${account}"`);

    expect(await planExportDownload(stranger, { runId: run.id, format: "cli" })).toEqual({ ok: false, status: 403 });
    expect(await planExportDownload(null, { runId: run.id, format: "cli" })).toEqual({ ok: false, status: 401 });
    expect(await planExportDownload(admin, { runId: run.id, format: "pdf" })).toEqual({ ok: false, status: 400 });
    expect(await planExportDownload(admin, { runId: "not a run", format: "cli" })).toEqual({ ok: false, status: 403 });

    const events = (await listAuditEvents(run.tenantId, { limit: 50 })).filter((e) => e.action === "run.plan_exported");
    expect(events.map((e) => [e.actorUpn, e.runId, (e.detail as { format?: string } | null)?.format]).sort()).toEqual([
      ["admin@contoso.example", run.id, "cli"],
      ["admin@contoso.example", run.id, "terraform"],
    ]);
    expect(await listAuditEvents(stranger.user.tenantId, { limit: 50 })).toEqual([]);
  });
});
