// Fields of a server action's form argument, which arrives as whatever the caller posted (not always a FormData).
import "server-only";

/** The form's string fields, or {} when the argument isn't a FormData (a hand-made POST); zod then reports what is missing. */
export function formFields(form: unknown): Record<string, unknown> {
  if (!(form instanceof FormData)) return {};
  const out: Record<string, unknown> = {};
  form.forEach((value, key) => {
    if (typeof value === "string") out[key] = value;
  });
  return out;
}

/** Every string value of a repeated field (checkboxes), or [] when the argument isn't a FormData. */
export function formList(form: unknown, key: string): string[] {
  if (!(form instanceof FormData)) return [];
  return form.getAll(key).filter((v): v is string => typeof v === "string");
}
