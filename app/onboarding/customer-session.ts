// The first check of every customer action: signed in, and not vendor staff (the vendor's view is read-only).
import { failure, type ActionResult } from "@/lib/action-result";
import { getSession } from "@/lib/auth/session";
import type { SessionWithUser } from "@/lib/db/sessions";
import { refuseVendorStaff } from "@/lib/vendor-view/access";

/** The signed-in customer admin's session, or the failure the action returns as it is, before reading anything. */
export async function customerSession(): Promise<{ ok: true; session: SessionWithUser } | { ok: false; failure: ActionResult<never> }> {
  const session = await getSession();
  if (!session) return { ok: false, failure: failure("Your session has ended. Sign in again to continue.", { code: "unauthenticated" }) };
  const refused = refuseVendorStaff(session);
  return refused ? { ok: false, failure: refused } : { ok: true, session };
}
