// Delete an app registration (Entra also deletes its service principal, secrets and the grants to it).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { toAzureError } from "./errors";
import { graphClient, isGraphNotFound } from "./graph-client";

/** Delete the application by object id; an unknown one counts as deleted. Entra keeps it 30 days in deleted items. */
export async function deleteApplication(credential: TokenCredential, applicationObjectId: string): Promise<void> {
  try {
    await graphClient(credential)
      .api(`/applications/${encodeURIComponent(applicationObjectId)}`)
      .delete();
  } catch (error) {
    if (isGraphNotFound(error)) return;
    throw toAzureError(error, {
      action: "delete the vendor's app registration",
      requiredRole: "an owner of the app, Application Administrator or Cloud Application Administrator",
      whoCanGrant: "a Global Administrator or Privileged Role Administrator",
    });
  }
}
