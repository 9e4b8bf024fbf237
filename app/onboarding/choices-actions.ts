"use server";

import { revalidatePath } from "next/cache";
import { failure, type ActionResult } from "@/lib/action-result";
import { formFields, formList } from "@/lib/form-fields";
import { authorizeRunAction } from "@/lib/onboarding/authorize";
import { changeChoicesAndRetry, changeChoicesSchema } from "@/lib/onboarding/change-choices";
import { customerSession } from "./customer-session";

// Change the choices an Azure Policy denied (tags, network restriction) on a run stopped at the storage step, and retry it.
export async function changeChoicesAction(
  _prev: ActionResult<{ runId: string }> | null,
  form: FormData,
): Promise<ActionResult<{ runId: string }>> {
  const auth = await customerSession();
  if (!auth.ok) return auth.failure;
  const { session } = auth;
  const fields = formFields(form);
  const names = formList(form, "tagName");
  const values = formList(form, "tagValue");
  const pairs = names.map((name, i) => [name.trim(), (values[i] ?? "").trim()] as const).filter(([name]) => name !== "");
  // Azure tag names are case-insensitive: two rows for one tag would be one tag in Azure, with a value nobody chose.
  const lower = pairs.map(([name]) => name.toLowerCase());
  if (new Set(lower).size !== lower.length)
    return failure("Each tag can appear only once.", { code: "invalid", fieldErrors: { tags: ["Each tag can appear only once."] } });
  const parsed = changeChoicesSchema.safeParse({
    runId: fields.runId,
    restrictNetwork: fields.restrictNetwork === "on",
    tags: Object.fromEntries(pairs),
  });
  if (!parsed.success) {
    return failure(parsed.error.issues[0]?.message ?? "Check the choices.", {
      code: "invalid",
      fieldErrors: Object.fromEntries(parsed.error.issues.map((i) => [i.path.join("."), [i.message]])),
    });
  }
  const allowed = await authorizeRunAction(session, "changeChoicesAction", parsed.data.runId);
  if (!allowed.ok) return allowed.failure;
  const result = await changeChoicesAndRetry(session, allowed.view, parsed.data);
  revalidatePath(`/onboarding/${parsed.data.runId}`);
  return result;
}
