// The preamble every customer server action shares, in one order: session and vendor refusal, input validation,
// authorization, then the call and the revalidation of the page that shows its result.
import "server-only";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import type { z } from "zod";
import { failure, type ActionResult } from "@/lib/action-result";
import { isPresenterMode } from "@/lib/auth/session";
import type { SessionWithUser } from "@/lib/db/sessions";
import { formFields } from "@/lib/form-fields";
import { runActionSchema } from "@/lib/onboarding/schemas";
import {
  authorizePlanAction,
  authorizeRunAction,
  type PlanActionName,
  type PlanScope,
  type RunActionName,
} from "@/lib/onboarding/authorize";
import type { RunView } from "@/lib/onboarding/run-control";
import { customerSession } from "./customer-session";

/** Validated input, or the failure the action returns as it is. */
export type Parsed<I> = { ok: true; data: I } | { ok: false; failure: ActionResult<never> };

/** A form reader that validates `read(form)` with `schema`; a mismatch answers `invalid` with code "invalid". */
export function formInput<S extends z.ZodType<{ runId: string }>>(
  schema: S,
  invalid: string,
  read: (form: unknown) => unknown = formFields,
): (form: unknown) => Parsed<z.output<S>> {
  return (form) => {
    const parsed = schema.safeParse(read(form));
    return parsed.success ? { ok: true, data: parsed.data } : { ok: false, failure: failure(invalid, { code: "invalid" }) };
  };
}

/** The form of an action that names only its run. */
export const runLinkInput = formInput(runActionSchema, "This run link is not valid.", (form) => ({ runId: formFields(form).runId }));

/** What an authorized run action is handed. */
export interface RunActionContext<I> {
  session: SessionWithUser;
  view: RunView;
  input: I;
  /** Presenter mode of the request (read only for actions that ask for it, else false). */
  presenter: boolean;
}

/** What a customer action on an existing run does once it is authorized. */
export interface RunActionSpec<I extends { runId: string }, T> {
  /** Read presenter mode alongside the session (actions that reveal or show live values). */
  presenter?: boolean;
  run: (context: RunActionContext<I>) => Promise<ActionResult<T>>;
  /** The page to revalidate once the call returns, or null to leave the cache as it is for that result. */
  revalidate: (input: I, result: ActionResult<T>) => string | null;
  /** The page to open when the call succeeds. */
  redirect?: (input: I) => string;
}

/**
 * The server action (useActionState shape) `action` of ACTION_DECISIONS: its form read by `parse`, then `spec`. Every
 * refusal is returned before the call reads or writes anything.
 */
export function runAction<I extends { runId: string }, T>(
  action: RunActionName,
  parse: (form: unknown) => Parsed<I>,
  spec: RunActionSpec<I, T>,
): (prev: ActionResult<T> | null, form: FormData) => Promise<ActionResult<T>> {
  return async (_prev, form) => {
    const [auth, presenter] = await Promise.all([customerSession(), spec.presenter ? isPresenterMode() : false]);
    if (!auth.ok) return auth.failure;
    const input = parse(form);
    if (!input.ok) return input.failure;
    const allowed = await authorizeRunAction(auth.session, action, input.data.runId);
    if (!allowed.ok) return allowed.failure;
    const result = await spec.run({ session: auth.session, view: allowed.view, input: input.data, presenter });
    const page = spec.revalidate(input.data, result);
    if (page !== null) revalidatePath(page);
    if (result.ok && spec.redirect) redirect(spec.redirect(input.data));
    return result;
  };
}

/** One customer action before a run exists: authorized for the subscriptions its input names. */
export interface PlanActionSpec<S extends z.ZodType, T> {
  action: PlanActionName;
  schema: S;
  /** The message of a validation failure (returned with each field's errors). */
  invalid: string;
  scope: (input: z.output<S>) => PlanScope;
  run: (session: SessionWithUser, input: z.output<S>) => Promise<ActionResult<T>>;
}

/** A server action taking one argument for `spec`, in the same order as runAction. */
export function planAction<S extends z.ZodType, T>(spec: PlanActionSpec<S, T>): (input: unknown) => Promise<ActionResult<T>> {
  return async (raw) => {
    const auth = await customerSession();
    if (!auth.ok) return auth.failure;
    const parsed = spec.schema.safeParse(raw);
    if (!parsed.success) return failure(spec.invalid, { fieldErrors: fieldErrorsOf(parsed.error) });
    const allowed = await authorizePlanAction(auth.session, spec.action, spec.scope(parsed.data));
    if (!allowed.ok) return allowed.failure;
    return spec.run(auth.session, parsed.data);
  };
}

function fieldErrorsOf(error: z.ZodError): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const issue of error.issues) (out[issue.path.join(".")] ??= []).push(issue.message);
  return out;
}
