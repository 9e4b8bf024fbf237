// Tenant-authorized plan exports (Azure CLI script, Terraform) as downloads; each download is an audited decision.
import "server-only";
import { z } from "zod";
import { recordAuditEvent } from "@/lib/db/audit";
import type { SessionWithUser } from "@/lib/db/sessions";
import { getRunView } from "@/lib/onboarding/run-control";
import { runIdSchema } from "@/lib/onboarding/schemas";
import { azureCliScript } from "./azure-cli";
import { exportModel } from "./model";
import { terraformConfig } from "./terraform";

/** The export formats: ?format=cli|terraform. */
export const planExportFormatSchema = z.enum(["cli", "terraform"]);
export type PlanExportFormat = z.infer<typeof planExportFormatSchema>;

/** A file to send, or a bare status (401 no session, 403 not this tenant's run, 400 unknown format, 409 no plan yet). */
export type PlanExportDownload =
  { ok: true; body: string; contentType: string; filename: string } | { ok: false; status: 400 | 401 | 403 | 409 };

/** The run's stored plan in the chosen format, if the run belongs to the session's tenant. */
export async function planExportDownload(
  session: SessionWithUser | null,
  request: { runId: string; format: string | null },
): Promise<PlanExportDownload> {
  if (!session) return { ok: false, status: 401 };
  if (!runIdSchema.safeParse(request.runId).success) return { ok: false, status: 403 };
  const view = await getRunView(session, request.runId);
  if (!view) return { ok: false, status: 403 };
  const format = planExportFormatSchema.safeParse(request.format ?? "cli");
  if (!format.success) return { ok: false, status: 400 };
  if (!view.plan) return { ok: false, status: 409 };

  const model = exportModel({ runId: view.run.id, tenantId: session.user.tenantId, config: view.config, plan: view.plan });
  const body = format.data === "cli" ? azureCliScript(model) : terraformConfig(model);
  await recordAuditEvent({
    tenantId: session.user.tenantId,
    actorUserId: session.user.id,
    actorUpn: session.user.upn,
    action: "run.plan_exported",
    target: view.run.id,
    runId: view.run.id,
    outcome: "success",
    detail: { format: format.data, planHash: view.planHash },
  });
  return format.data === "cli"
    ? { ok: true, body, contentType: "text/x-shellscript; charset=utf-8", filename: `aks-onboarding-${view.run.id}.sh` }
    : { ok: true, body, contentType: "text/plain; charset=utf-8", filename: `aks-onboarding-${view.run.id}.tf` };
}
