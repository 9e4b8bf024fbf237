"use server";

import { revalidatePath } from "next/cache";
import { failure, type ActionResult } from "@/lib/action-result";
import { formFields } from "@/lib/form-fields";
import { authorizeRunAction } from "@/lib/onboarding/authorize";
import { requestAdminHandoff } from "@/lib/onboarding/admin-handoff";
import { runActionSchema } from "@/lib/onboarding/schemas";
import { customerSession } from "./customer-session";

// Record that the admin asked a colleague to continue the step that needs another admin (audited, shown on the step).
export async function askAnotherAdminAction(
  _prev: ActionResult<{ at: string; by: string }> | null,
  form: FormData,
): Promise<ActionResult<{ at: string; by: string }>> {
  const auth = await customerSession();
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = runActionSchema.safeParse({ runId: formFields(form).runId });
  if (!parsed.success) return failure("This run link is not valid.", { code: "invalid" });
  const allowed = await authorizeRunAction(session, "askAnotherAdminAction", parsed.data.runId);
  if (!allowed.ok) return allowed.failure;
  const result = await requestAdminHandoff(session, parsed.data.runId);
  revalidatePath(`/onboarding/${parsed.data.runId}`);
  return result;
}
