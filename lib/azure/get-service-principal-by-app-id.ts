// Read a service principal (enterprise app) by its application id, with its app roles.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { toAzureError } from "./errors";
import { graphClient, isGraphNotFound, odataString, parseGraph } from "./graph-client";

/** One app role (application or delegated permission a resource app offers). */
export interface AppRole {
  id: string;
  value: string | null;
  displayName: string;
  allowedMemberTypes: string[];
  isEnabled: boolean;
}

/** A service principal (the app's identity in this tenant). */
export interface ServicePrincipalInfo {
  /** Object id: what role assignments and app role grants reference. */
  id: string;
  appId: string;
  displayName: string;
  appRoles: AppRole[];
}

const servicePrincipalSchema = z.object({
  id: z.string().min(1),
  appId: z.string().min(1),
  displayName: z.string().nullish(),
  appRoles: z
    .array(
      z.object({
        id: z.string().min(1),
        value: z.string().nullish(),
        displayName: z.string().nullish(),
        allowedMemberTypes: z.array(z.string()).nullish(),
        isEnabled: z.boolean().nullish(),
      }),
    )
    .nullish(),
});

const SERVICE_PRINCIPAL_SELECT = "id,appId,displayName,appRoles";

/** Graph payload → domain type. */
export function toServicePrincipalInfo(body: unknown): ServicePrincipalInfo {
  const sp = parseGraph(servicePrincipalSchema, body, "a service principal");
  return {
    id: sp.id,
    appId: sp.appId,
    displayName: sp.displayName ?? "",
    appRoles: (sp.appRoles ?? []).map((r) => ({
      id: r.id,
      value: r.value ?? null,
      displayName: r.displayName ?? "",
      allowedMemberTypes: r.allowedMemberTypes ?? [],
      isEnabled: r.isEnabled ?? true,
    })),
  };
}

/** The service principal of `appId` in this tenant, or null when the app has none here yet. */
export async function getServicePrincipalByAppId(credential: TokenCredential, appId: string): Promise<ServicePrincipalInfo | null> {
  try {
    const body: unknown = await graphClient(credential)
      .api(`/servicePrincipals(appId=${encodeURIComponent(odataString(appId))})`)
      .select(SERVICE_PRINCIPAL_SELECT)
      .get();
    return toServicePrincipalInfo(body);
  } catch (error) {
    if (isGraphNotFound(error)) return null;
    throw toAzureError(error, { action: "read the service principal", requiredRole: "the Application.Read.All permission" });
  }
}
