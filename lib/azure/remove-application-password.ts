// Revoke one client secret of an app registration.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { graphClient, isGraphNotFound } from "./graph-client";

/** Remove the secret `keyId`; an unknown key (already removed, or the app is gone with its secrets) counts as removed. */
export async function removeApplicationPassword(credential: TokenCredential, applicationObjectId: string, keyId: string): Promise<void> {
  try {
    await graphClient(credential)
      .api(`/applications/${encodeURIComponent(applicationObjectId)}/removePassword`)
      .post({ keyId });
  } catch (error) {
    if (isGraphNotFound(error)) return;
    throw toAzureError(error, {
      action: "revoke a client secret of the vendor's app",
      requiredRole: "an owner of the app, Application Administrator or Cloud Application Administrator",
      whoCanGrant: "a Global Administrator or Privileged Role Administrator",
    });
  }
}
