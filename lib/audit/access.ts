// Tenant-authorized reads of the audit trail: the run page's pages of events and the streamed JSON Lines / CSV downloads.
import "server-only";
import { getRunForTenant, type SessionWithUser } from "@/lib/db";
import { auditCursor, listAuditPage, readAuditChain, type AuditPage } from "@/lib/db/audit";
import type { RunView } from "@/lib/onboarding/run-control";
import { runIdSchema } from "@/lib/onboarding/schemas";
import { auditExportStream } from "./export";

/** Events per page on the run page and the vendor's run detail. */
export const AUDIT_PAGE_SIZE = 50;

/** Export formats. */
export type AuditFormat = "jsonl" | "csv";

/** A download to send (a stream read from the database as the client takes it), or a bare status (401, 403, 400). */
export type AuditDownload =
  { ok: true; body: ReadableStream<Uint8Array>; contentType: string; filename: string } | { ok: false; status: 400 | 401 | 403 };

/** A page cursor from a search parameter (`?auditBefore=`), or null for the newest page. */
export function auditPageCursor(value: string | string[] | undefined): string | null {
  return typeof value === "string" && auditCursor(value) !== null ? value : null;
}

/**
 * One page of a run's events, newest first, before the cursor `before` (the newest when null), if the run belongs to
 * the session's tenant; null otherwise.
 */
export async function runAuditTrail(
  session: SessionWithUser,
  runId: string,
  options: { before?: string | null; limit?: number; view?: RunView | null } = {},
): Promise<AuditPage | null> {
  if (!runIdSchema.safeParse(runId).success) return null;
  // The page's view (already read for this tenant) stands for the run; otherwise the bare run row, whatever its config.
  const given = options.view?.run;
  if (!(given?.id === runId && given.tenantId === session.user.tenantId) && !(await getRunForTenant(runId, session.user.tenantId)))
    return null;
  return listAuditPage(
    { tenantId: session.user.tenantId, runId },
    { limit: options.limit ?? AUDIT_PAGE_SIZE, before: options.before ?? null },
  );
}

/** The session's tenant trail (no runId) or one of its runs' events as a streamed file; never another tenant's. */
export async function auditDownload(
  session: SessionWithUser | null,
  request: { runId?: string; format: string | null },
): Promise<AuditDownload> {
  if (!session) return { ok: false, status: 401 };
  const { runId } = request;
  if (runId !== undefined && (!runIdSchema.safeParse(runId).success || !(await getRunForTenant(runId, session.user.tenantId)))) {
    return { ok: false, status: 403 };
  }
  const format = request.format ?? "jsonl";
  if (format !== "jsonl" && format !== "csv") return { ok: false, status: 400 };

  const tenantId = session.user.tenantId;
  const stamp = new Date().toISOString().replaceAll(":", "").slice(0, 15);
  const base = runId === undefined ? `audit-tenant-${stamp}` : `audit-run-${runId}-${stamp}`;
  const body = auditExportStream({
    format,
    scope: runId === undefined ? "tenant" : "run",
    tenantId,
    runId: runId ?? null,
    chunks: readAuditChain({ tenantId, ...(runId === undefined ? {} : { runId }) }),
  });
  return format === "csv"
    ? { ok: true, body, contentType: "text/csv; charset=utf-8", filename: `${base}.csv` }
    : { ok: true, body, contentType: "application/x-ndjson; charset=utf-8", filename: `${base}.jsonl` };
}
