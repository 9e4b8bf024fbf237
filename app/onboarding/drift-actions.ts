"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { failure, type ActionResult } from "@/lib/action-result";
import { isPresenterMode } from "@/lib/auth/session";
import { formFields, formList } from "@/lib/form-fields";
import { authorizeRunAction } from "@/lib/onboarding/authorize";
import { extendCoverage, extendCoverageSchema, recheckCoverageView, type CoverageReportView } from "@/lib/onboarding/drift";
import { runActionSchema } from "@/lib/onboarding/schemas";
import { customerSession } from "./customer-session";

// Re-read Azure for a completed run: which clusters of its subscriptions don't send kube-audit to its accounts. Reads only.
export async function recheckCoverageAction(
  _prev: ActionResult<CoverageReportView> | null,
  form: FormData,
): Promise<ActionResult<CoverageReportView>> {
  const [auth, presenter] = await Promise.all([customerSession(), isPresenterMode()]);
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = runActionSchema.safeParse({ runId: formFields(form).runId });
  if (!parsed.success) return failure("This run link is not valid.", { code: "invalid" });
  const allowed = await authorizeRunAction(session, "recheckCoverageAction", parsed.data.runId);
  if (!allowed.ok) return allowed.failure;
  const result = await recheckCoverageView(session, parsed.data.runId, { presenter });
  revalidatePath(`/onboarding/${parsed.data.runId}`);
  return result;
}

// Extend the run to the selected clusters: reopens it with a stored plan for the admin to review and confirm.
export async function extendCoverageAction(
  _prev: ActionResult<{ runId: string }> | null,
  form: FormData,
): Promise<ActionResult<{ runId: string }>> {
  const auth = await customerSession();
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = extendCoverageSchema.safeParse({ runId: formFields(form).runId, clusterKeys: formList(form, "cluster") });
  if (!parsed.success) return failure("This selection is not valid. Check coverage again.", { code: "invalid" });
  const allowed = await authorizeRunAction(session, "extendCoverageAction", parsed.data.runId);
  if (!allowed.ok) return allowed.failure;
  const result = await extendCoverage(session, parsed.data.runId, parsed.data.clusterKeys);
  revalidatePath(`/onboarding/${parsed.data.runId}`);
  if (!result.ok) return result;
  redirect(`/onboarding/${parsed.data.runId}/plan`);
}
