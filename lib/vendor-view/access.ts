// Who is vendor staff: a signed-in user of the configured vendor tenant. The one place that decides it.
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
