// Create or update the vendor's app registration, keyed by uniqueName (Graph upsert).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { AzureOperationError, toAzureError } from "./errors";
import {
  applicationByUniqueNamePath,
  getApplicationByUniqueName,
  toApplicationInfo,
  type ApplicationInfo,
} from "./get-application-by-unique-name";
import { graphClient } from "./graph-client";

/** The app registration the portal wants. */
export interface ApplicationInput {
  uniqueName: string;
  displayName: string;
  description?: string;
  /** Application permissions (app roles) the app declares, per resource app: e.g. Log Analytics API Data.Read. */
  requiredAppRoles: { resourceAppId: string; appRoleIds: string[] }[];
}

const UNIQUE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$/;

/** The PATCH body: single-tenant app; requiredResourceAccess only declares, admin consent is a separate grant. */
export function applicationUpsertBody(input: ApplicationInput): Record<string, unknown> {
  if (!UNIQUE_NAME.test(input.uniqueName)) {
    throw new AzureOperationError("invalid_request", "The app's unique name may use letters, digits, '.', '_' and '-' only.");
  }
  return {
    displayName: input.displayName,
    signInAudience: "AzureADMyOrg",
    ...(input.description ? { description: input.description } : {}),
    requiredResourceAccess: input.requiredAppRoles.map((r) => ({
      resourceAppId: r.resourceAppId,
      resourceAccess: r.appRoleIds.map((id) => ({ id, type: "Role" })),
    })),
  };
}

/** PATCH /applications(uniqueName='…') with Prefer: create-if-missing: 201 with the new app, or 204 after an update. */
export async function upsertApplication(credential: TokenCredential, input: ApplicationInput): Promise<ApplicationInfo> {
  const body = applicationUpsertBody(input);
  const ctx = {
    action: "create the vendor's app registration",
    requiredRole: "Application Developer or Cloud Application Administrator, with the Application.ReadWrite.All permission",
    whoCanGrant: "a Global Administrator or Privileged Role Administrator",
  };
  try {
    const created: unknown = await graphClient(credential)
      .api(applicationByUniqueNamePath(input.uniqueName))
      .header("Prefer", "create-if-missing")
      .patch(body);
    if (created !== undefined && created !== null && created !== "") return toApplicationInfo(created);
  } catch (error) {
    throw toAzureError(error, ctx);
  }
  // 204: it existed and was updated; Graph returns no body.
  const existing = await getApplicationByUniqueName(credential, input.uniqueName);
  if (!existing)
    throw new AzureOperationError("not_found", "Entra ID updated the vendor's app registration but cannot find it now. Retry in a moment.");
  return existing;
}
