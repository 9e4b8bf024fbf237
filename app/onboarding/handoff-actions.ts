"use server";

import { revalidatePath } from "next/cache";
import { failure, type ActionResult } from "@/lib/action-result";
import { isPresenterMode } from "@/lib/auth/session";
import { formFields } from "@/lib/form-fields";
import { authorizeRunAction } from "@/lib/onboarding/authorize";
import { acknowledgeHandoff, revealClientSecret, type HandoffMark } from "@/lib/onboarding/manual-handoff";
import { runActionSchema } from "@/lib/onboarding/schemas";
import { customerSession } from "./customer-session";

// Reveal the run's client secret once; the value travels only in this response, never in a page, URL or log. Refused in presenter mode.
export async function revealSecretAction(
  _prev: ActionResult<{ value: string }> | null,
  form: FormData,
): Promise<ActionResult<{ value: string }>> {
  const [auth, presenter] = await Promise.all([customerSession(), isPresenterMode()]);
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = runActionSchema.safeParse({ runId: formFields(form).runId });
  if (!parsed.success) return failure("This run link is not valid.", { code: "invalid" });
  const allowed = await authorizeRunAction(session, "revealSecretAction", parsed.data.runId);
  if (!allowed.ok) return allowed.failure;
  const result = await revealClientSecret(session, parsed.data.runId, { presenter });
  revalidatePath(`/onboarding/${parsed.data.runId}`);
  return result;
}

// Record that the admin gave the hand-off values to the vendor; the portal deletes the stored secret.
export async function acknowledgeHandoffAction(
  _prev: ActionResult<HandoffMark> | null,
  form: FormData,
): Promise<ActionResult<HandoffMark>> {
  const auth = await customerSession();
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = runActionSchema.safeParse({ runId: formFields(form).runId });
  if (!parsed.success) return failure("This run link is not valid.", { code: "invalid" });
  const allowed = await authorizeRunAction(session, "acknowledgeHandoffAction", parsed.data.runId);
  if (!allowed.ok) return allowed.failure;
  const result = await acknowledgeHandoff(session, parsed.data.runId);
  revalidatePath(`/onboarding/${parsed.data.runId}`);
  return result;
}
