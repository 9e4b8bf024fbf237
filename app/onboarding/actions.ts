"use server";

import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import type { z } from "zod";
import { failure, type ActionResult } from "@/lib/action-result";
import { formFields } from "@/lib/form-fields";
import { checkStorageName, createOnboardingRun, type StorageNameStatus } from "@/lib/onboarding/new-run";
import { authorizePlanAction, authorizeRunAction } from "@/lib/onboarding/authorize";
import { confirmAndStart, continueRun, replan } from "@/lib/onboarding/run-control";
import { confirmPlanSchema, newRunSchema, runActionSchema, storageNameCheckSchema } from "@/lib/onboarding/schemas";
import { customerSession } from "./customer-session";

function fieldErrorsOf(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) (out[issue.path.join(".")] ??= []).push(issue.message);
  return out;
}

// Live check of a storage account name while the admin types.
export async function checkStorageNameAction(input: unknown): Promise<ActionResult<{ status: StorageNameStatus; message: string }>> {
  const auth = await customerSession();
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = storageNameCheckSchema.safeParse(input);
  if (!parsed.success) return failure("Check the name.", { fieldErrors: fieldErrorsOf(parsed.error) });
  const allowed = await authorizePlanAction(session, "checkStorageNameAction", {
    storageSubscriptions: [parsed.data.subscriptionId],
    clusterSubscriptions: [],
  });
  if (!allowed.ok) return allowed.failure;
  return checkStorageName(session, parsed.data);
}

// Create a run from the admin's choices and compute its plan; nothing is written to Azure yet.
export async function createRunAction(input: unknown): Promise<ActionResult<{ runId: string }>> {
  const auth = await customerSession();
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = newRunSchema.safeParse(input);
  if (!parsed.success) return failure("Check the highlighted fields.", { fieldErrors: fieldErrorsOf(parsed.error) });
  const allowed = await authorizePlanAction(session, "createRunAction", {
    storageSubscriptions: parsed.data.storage.map((s) => s.subscriptionId),
    clusterSubscriptions: parsed.data.subscriptionIds,
  });
  if (!allowed.ok) return allowed.failure;
  return createOnboardingRun(session, parsed.data);
}

// Confirm the plan the admin saw and start the steps.
export async function confirmPlanAction(
  _prev: ActionResult<{ runId: string }> | null,
  form: FormData,
): Promise<ActionResult<{ runId: string }>> {
  const auth = await customerSession();
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = confirmPlanSchema.safeParse(formFields(form));
  if (!parsed.success) return failure("This confirmation is not valid. Reload the plan.", { code: "invalid" });
  const allowed = await authorizeRunAction(session, "confirmPlanAction", parsed.data.runId);
  if (!allowed.ok) return allowed.failure;
  const result = await confirmAndStart(session, parsed.data.runId, parsed.data.planHash);
  if (!result.ok) return result;
  revalidatePath(`/onboarding/${parsed.data.runId}`);
  redirect(`/onboarding/${parsed.data.runId}`);
}

// Continue (retry or resume) a run from its first unfinished step.
export async function continueRunAction(
  _prev: ActionResult<{ runId: string }> | null,
  form: FormData,
): Promise<ActionResult<{ runId: string }>> {
  const auth = await customerSession();
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = runActionSchema.safeParse(formFields(form));
  if (!parsed.success) return failure("This run link is not valid.", { code: "invalid" });
  const allowed = await authorizeRunAction(session, "continueRunAction", parsed.data.runId);
  if (!allowed.ok) return allowed.failure;
  const result = await continueRun(session, parsed.data.runId);
  revalidatePath(`/onboarding/${parsed.data.runId}`);
  return result;
}

// Re-read Azure and recompute a plan that isn't confirmed yet.
export async function replanAction(
  _prev: ActionResult<{ runId: string }> | null,
  form: FormData,
): Promise<ActionResult<{ runId: string }>> {
  const auth = await customerSession();
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const parsed = runActionSchema.safeParse(formFields(form));
  if (!parsed.success) return failure("This run link is not valid.", { code: "invalid" });
  const allowed = await authorizeRunAction(session, "replanAction", parsed.data.runId);
  if (!allowed.ok) return allowed.failure;
  const result = await replan(session, parsed.data.runId);
  revalidatePath(`/onboarding/${parsed.data.runId}/plan`);
  return result;
}
