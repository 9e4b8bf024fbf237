// Capture the signing-in tenant's display name, so the vendor's list reads "Contoso" instead of a GUID.
import "server-only";
import { log } from "@/lib/log";
import { delegatedCredential } from "@/lib/auth/tokens";
import { AzureOperationError } from "@/lib/azure/errors";
import { getHomeTenant } from "@/lib/azure/get-home-tenant";
import { upsertTenantName } from "@/lib/db/tenants";

/**
 * Reads the tenant's name with the sign-in's ARM token and stores it. Best effort: a failure is logged (code only)
 * and the sign-in goes on; the list falls back to the tenant id until a later sign-in succeeds.
 */
export async function rememberTenantName(armToken: { token: string; expiresOn: Date }, tenantId: string): Promise<boolean> {
  try {
    const tenant = await getHomeTenant(
      delegatedCredential(() => Promise.resolve(armToken)),
      tenantId,
    );
    if (!tenant) return false;
    await upsertTenantName({ id: tenant.tenantId, displayName: tenant.displayName, defaultDomain: tenant.defaultDomain });
    return true;
  } catch (error) {
    log().warn(
      { event: "auth.tenant_name_failed", code: error instanceof AzureOperationError ? error.code : "unexpected" },
      "tenant name not captured",
    );
    return false;
  }
}
