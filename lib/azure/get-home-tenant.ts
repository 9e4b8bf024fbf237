// Read the signed-in user's tenant name from ARM (GET /tenants): no extra consent, the sign-in's ARM token suffices.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { subscriptionClient } from "./clients";
import { toAzureError } from "./errors";

/** A tenant as ARM describes it. */
export interface TenantDetails {
  tenantId: string;
  displayName: string;
  defaultDomain: string | null;
}

const tenantSchema = z.object({
  tenantId: z.string().uuid(),
  displayName: z.string().min(1).max(256),
  defaultDomain: z.string().max(256).optional(),
});

/** The caller's tenant `tenantId` with its display name; null when ARM doesn't list it or gives it no name. */
export async function getHomeTenant(credential: TokenCredential, tenantId: string): Promise<TenantDetails | null> {
  try {
    // The list holds every tenant the account belongs to (guest tenants too): pick the one signed in to.
    for await (const t of subscriptionClient(credential).tenants.list()) {
      const parsed = tenantSchema.safeParse(t);
      if (parsed.success && parsed.data.tenantId.toLowerCase() === tenantId.toLowerCase()) {
        return { tenantId: parsed.data.tenantId, displayName: parsed.data.displayName, defaultDomain: parsed.data.defaultDomain ?? null };
      }
    }
    return null;
  } catch (error) {
    throw toAzureError(error, { action: "read your tenant's name" });
  }
}
