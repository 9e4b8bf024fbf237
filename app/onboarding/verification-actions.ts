"use server";

import { revalidatePath } from "next/cache";
import { failure, type ActionResult } from "@/lib/action-result";
import { refuseVendorStaff } from "@/lib/vendor-view/access";
import { getSession } from "@/lib/auth/session";
import { formFields } from "@/lib/form-fields";
import { runActionSchema } from "@/lib/onboarding/schemas";
import { rerunVerification } from "@/lib/onboarding/verification";

// Run the Verification step again (signs in as the app with a one-hour secret); tenant-authorized and audited in lib/.
export async function rerunVerificationAction(_prev: ActionResult<{ runId: string }> | null, form: FormData): Promise<ActionResult<{ runId: string }>> {
  const session = await getSession();
  if (!session) return failure("Your session has ended. Sign in again to continue.", { code: "unauthenticated" });
  const refused = refuseVendorStaff(session);
  if (refused) return refused;
  const parsed = runActionSchema.safeParse({ runId: formFields(form).runId });
  if (!parsed.success) return failure("This run link is not valid.", { code: "invalid" });
  const result = await rerunVerification(session, parsed.data.runId);
  revalidatePath(`/onboarding/${parsed.data.runId}`);
  return result;
}
