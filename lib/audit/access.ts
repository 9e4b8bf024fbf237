// Tenant-authorized reads of the audit trail: the run page's list and the JSON Lines / CSV downloads.
import { getRunForTenant, listAuditChain, type AuditEvent, type SessionWithUser } from "@/lib/db";
import type { RunView } from "@/lib/onboarding/run-control";
import { runIdSchema } from "@/lib/onboarding/schemas";
import { verifyChain } from "./chain";
import { CHECK_COMMAND, toCsv, toJsonLines } from "./export";

/** Export formats. */
export type AuditFormat = "jsonl" | "csv";

/** A download to send, or a bare status (401 no session, 403 not this tenant's run, 400 unknown format). */
export type AuditDownload =
  | { ok: true; body: string; contentType: string; filename: string }
  | { ok: false; status: 400 | 401 | 403 };

/** A run's events, newest first, if the run belongs to the session's tenant; null otherwise. */
export async function runAuditTrail(session: SessionWithUser, runId: string, options: { limit?: number; view?: RunView | null } = {}): Promise<AuditEvent[] | null> {
  if (!runIdSchema.safeParse(runId).success) return null;
  // The page's view (already read for this tenant) stands for the run; otherwise the bare run row, whatever its config.
  const given = options.view?.run;
  if (!(given?.id === runId && given.tenantId === session.user.tenantId) && !(await getRunForTenant(runId, session.user.tenantId))) return null;
  return (await listAuditChain({ tenantId: session.user.tenantId, runId }, options)).reverse();
}

/** The session's tenant trail (no runId) or one of its runs' events as a file; never another tenant's. */
export async function auditDownload(session: SessionWithUser | null, request: { runId?: string; format: string | null }): Promise<AuditDownload> {
  if (!session) return { ok: false, status: 401 };
  const { runId } = request;
  if (runId !== undefined && (!runIdSchema.safeParse(runId).success || !(await getRunForTenant(runId, session.user.tenantId)))) {
    return { ok: false, status: 403 };
  }
  const format = request.format ?? "jsonl";
  if (format !== "jsonl" && format !== "csv") return { ok: false, status: 400 };

  const tenantId = session.user.tenantId;
  const events = await listAuditChain({ tenantId, ...(runId === undefined ? {} : { runId }) });
  const stamp = new Date().toISOString().replaceAll(":", "").slice(0, 15);
  const base = runId === undefined ? `audit-tenant-${stamp}` : `audit-run-${runId}-${stamp}`;
  if (format === "csv") return { ok: true, body: toCsv(events), contentType: "text/csv; charset=utf-8", filename: `${base}.csv` };

  const verdict = verifyChain(events, { partial: runId !== undefined });
  const header = {
    auditExport: {
      scope: runId === undefined ? ("tenant" as const) : ("run" as const),
      tenantId,
      runId: runId ?? null,
      count: events.length,
      firstHash: verdict.ok ? verdict.firstHash : (events.find((e) => e.hash)?.hash ?? null),
      lastHash: verdict.ok ? verdict.lastHash : (events.findLast((e) => e.hash)?.hash ?? null),
      exportedAt: new Date().toISOString(),
      check: CHECK_COMMAND,
    },
  };
  return { ok: true, body: toJsonLines(events, header), contentType: "application/x-ndjson; charset=utf-8", filename: `${base}.jsonl` };
}
