"use server";

import { revalidatePath } from "next/cache";
import { failure, type ActionResult } from "@/lib/action-result";
import { formFields } from "@/lib/form-fields";
import { authorizeRunAction } from "@/lib/onboarding/authorize";
import { runActionSchema } from "@/lib/onboarding/schemas";
import { requestRotation } from "@/lib/rotation/service";
import { customerSession } from "./customer-session";

// Start (or continue) the rotation of the run's client secret; it runs on the server and the page shows its progress.
export async function rotateSecretAction(
  _prev: ActionResult<{ runId: string }> | null,
  form: FormData,
): Promise<ActionResult<{ runId: string }>> {
  const auth = await customerSession();
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = runActionSchema.safeParse({ runId: formFields(form).runId });
  if (!parsed.success) return failure("This run link is not valid.", { code: "invalid" });
  const allowed = await authorizeRunAction(session, "rotateSecretAction", parsed.data.runId);
  if (!allowed.ok) return allowed.failure;
  const result = await requestRotation(session, parsed.data.runId);
  revalidatePath(`/onboarding/${parsed.data.runId}`);
  return result.ok ? { ok: true, data: { runId: parsed.data.runId } } : result;
}
