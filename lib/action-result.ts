// What every server action returns: expected failures are values, never thrown.

export type ActionResult<T = undefined> =
  | { ok: true; data: T; message?: string }
  | { ok: false; message: string; fieldErrors?: Record<string, string[] | undefined>; code?: string };

/** A failed result. */
export function failure(
  message: string,
  extra: { code?: string; fieldErrors?: Record<string, string[] | undefined> } = {},
): ActionResult<never> {
  return { ok: false, message, ...extra };
}
