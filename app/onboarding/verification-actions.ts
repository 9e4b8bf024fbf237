"use server";

import { revalidatePath } from "next/cache";
import { failure, type ActionResult } from "@/lib/action-result";
import { formFields } from "@/lib/form-fields";
import { authorizeRunAction } from "@/lib/onboarding/authorize";
import { runActionSchema } from "@/lib/onboarding/schemas";
import { rerunVerification } from "@/lib/onboarding/verification";
import { customerSession } from "./customer-session";

// Run the Verification step again (signs in as the app with a one-hour secret); tenant-authorized and audited in lib/.
export async function rerunVerificationAction(
  _prev: ActionResult<{ runId: string }> | null,
  form: FormData,
): Promise<ActionResult<{ runId: string }>> {
  const auth = await customerSession();
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = runActionSchema.safeParse({ runId: formFields(form).runId });
  if (!parsed.success) return failure("This run link is not valid.", { code: "invalid" });
  const allowed = await authorizeRunAction(session, "rerunVerificationAction", parsed.data.runId);
  if (!allowed.ok) return allowed.failure;
  const result = await rerunVerification(session, parsed.data.runId);
  revalidatePath(`/onboarding/${parsed.data.runId}`);
  return result;
}
