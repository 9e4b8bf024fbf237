"use server";

import { revalidatePath } from "next/cache";
import { failure, type ActionResult } from "@/lib/action-result";
import { formFields } from "@/lib/form-fields";
import { authorizeRunAction } from "@/lib/onboarding/authorize";
import { startOffboarding } from "@/lib/offboarding/control";
import { confirmPlanSchema } from "@/lib/onboarding/schemas";
import { customerSession } from "./customer-session";

// Confirm the removal plan the admin saw and start removing what the run created.
export async function startOffboardingAction(
  _prev: ActionResult<{ runId: string }> | null,
  form: FormData,
): Promise<ActionResult<{ runId: string }>> {
  const auth = await customerSession();
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = confirmPlanSchema.safeParse(formFields(form));
  if (!parsed.success) return failure("This confirmation is not valid. Reload the page.", { code: "invalid" });
  const allowed = await authorizeRunAction(session, "startOffboardingAction", parsed.data.runId);
  if (!allowed.ok) return allowed.failure;
  const result = await startOffboarding(session, parsed.data.runId, parsed.data.planHash);
  revalidatePath(`/onboarding/${parsed.data.runId}/offboard`);
  return result;
}
