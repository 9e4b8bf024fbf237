// Who is vendor staff: a signed-in user of the configured vendor tenant. The one place that decides it.
import "server-only";
import { failure, type ActionResult } from "@/lib/action-result";
import type { SessionWithUser } from "@/lib/db/sessions";
import { env } from "@/lib/env";

/** Whether the vendor view exists in this deployment (VENDOR_TENANT_ID set). */
export function vendorViewEnabled(): boolean {
  return env().VENDOR_TENANT_ID !== undefined;
}

/** The rule, for a given configuration: only a session of the vendor tenant, and nobody when none is configured. */
export function isVendorTenantSession(vendorTenantId: string | undefined, session: SessionWithUser | null): boolean {
  if (!vendorTenantId || !session) return false;
  return session.user.tenantId.toLowerCase() === vendorTenantId.toLowerCase();
}

/** True only for a session of the configured vendor tenant; false when the vendor view is off or nobody is signed in. */
export function isVendorStaff(session: SessionWithUser | null): boolean {
  return isVendorTenantSession(env().VENDOR_TENANT_ID, session);
}

/** What a customer action answers vendor staff, before it reads or writes anything. */
export const VENDOR_STAFF_READ_ONLY =
  "You're signed in as vendor staff: the vendor view is read-only, and your sign-in can't change a customer's Azure. An admin of the customer's tenant makes this change from their own sign-in.";

/** The failure a customer action returns to vendor staff; null for anyone else. */
export function refuseVendorStaff(
  session: SessionWithUser,
  vendorTenantId: string | undefined = env().VENDOR_TENANT_ID,
): ActionResult<never> | null {
  return isVendorTenantSession(vendorTenantId, session) ? failure(VENDOR_STAFF_READ_ONLY, { code: "vendor_read_only" }) : null;
}
