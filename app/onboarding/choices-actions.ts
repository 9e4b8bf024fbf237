"use server";

import { failure } from "@/lib/action-result";
import { formFields, formList } from "@/lib/form-fields";
import { changeChoicesAndRetry, changeChoicesSchema, type ChangeChoicesInput } from "@/lib/onboarding/change-choices";
import { runAction, type Parsed } from "./action";

function parseChoices(form: unknown): Parsed<ChangeChoicesInput> {
  const fields = formFields(form);
  const names = formList(form, "tagName");
  const values = formList(form, "tagValue");
  const pairs = names.map((name, i) => [name.trim(), (values[i] ?? "").trim()] as const).filter(([name]) => name !== "");
  // Azure tag names are case-insensitive: two rows for one tag would be one tag in Azure, with a value nobody chose.
  const lower = pairs.map(([name]) => name.toLowerCase());
  if (new Set(lower).size !== lower.length)
    return {
      ok: false,
      failure: failure("Each tag can appear only once.", { code: "invalid", fieldErrors: { tags: ["Each tag can appear only once."] } }),
    };
  const parsed = changeChoicesSchema.safeParse({
    runId: fields.runId,
    restrictNetwork: fields.restrictNetwork === "on",
    tags: Object.fromEntries(pairs),
  });
  if (parsed.success) return { ok: true, data: parsed.data };
  return {
    ok: false,
    failure: failure(parsed.error.issues[0]?.message ?? "Check the choices.", {
      code: "invalid",
      fieldErrors: Object.fromEntries(parsed.error.issues.map((i) => [i.path.join("."), [i.message]])),
    }),
  };
}

// Change the choices an Azure Policy denied (tags, network restriction) on a run stopped at the storage step, and retry it.
export const changeChoicesAction = runAction("changeChoicesAction", parseChoices, {
  run: ({ session, view, input }) => changeChoicesAndRetry(session, view, input),
  revalidate: (input) => `/onboarding/${input.runId}`,
});
