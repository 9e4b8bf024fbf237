"use server";

import { revalidatePath } from "next/cache";
import { failure, type ActionResult } from "@/lib/action-result";
import { formFields } from "@/lib/form-fields";
import { authorizeRunAction } from "@/lib/onboarding/authorize";
import { leaveClusterOut, leaveClusterOutSchema } from "@/lib/onboarding/plan";
import { customerSession } from "./customer-session";

// Leave a cluster the plan flags as impossible out of the run, and plan the rest again; nothing is written to Azure.
export async function leaveClusterOutAction(
  _prev: ActionResult<{ runId: string }> | null,
  form: FormData,
): Promise<ActionResult<{ runId: string }>> {
  const auth = await customerSession();
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = leaveClusterOutSchema.safeParse(formFields(form));
  if (!parsed.success) return failure("This cluster is not part of this plan. Reload the plan.", { code: "invalid" });
  const allowed = await authorizeRunAction(session, "leaveClusterOutAction", parsed.data.runId);
  if (!allowed.ok) return allowed.failure;
  const result = await leaveClusterOut(session, allowed.view, parsed.data.cluster);
  revalidatePath(`/onboarding/${parsed.data.runId}/plan`);
  return result;
}
