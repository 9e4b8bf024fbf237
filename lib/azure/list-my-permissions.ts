// The signed-in caller's own effective control-plane permissions at a subscription (what ARM itself would enforce).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { createPipelineRequest } from "@azure/core-rest-pipeline";
import { z } from "zod";
import { env } from "@/lib/env";
import { authorizationClient } from "./clients";
import { armErrorFields, toAzureError } from "./errors";

/** One permission block: a role's actions minus its own notActions (blocks add up; notActions never cross blocks). */
export interface PermissionBlock {
  actions: string[];
  notActions: string[];
}

const pageSchema = z.object({
  value: z.array(z.object({ actions: z.array(z.string()).default([]), notActions: z.array(z.string()).default([]) })),
  nextLink: z.string().nullish(),
});

const API_VERSION = "2022-04-01";
const MAX_PAGES = 20;

/**
 * GET /subscriptions/{id}/providers/Microsoft.Authorization/permissions: the check Microsoft documents for "can this
 * user manage access to the subscription" (azure-docs articles/azure-resource-manager/management/
 * resource-manager-api-authentication.md, "Check if user can assign access to subscription"). It answers for the
 * caller's token only, so it needs no directory read permission, and it covers custom roles and group memberships.
 */
export async function listMyPermissions(credential: TokenCredential, subscriptionId: string): Promise<PermissionBlock[]> {
  const client = authorizationClient(credential, subscriptionId);
  const out: PermissionBlock[] = [];
  let url: string | undefined =
    `${env().ARM_ENDPOINT}/subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.Authorization/permissions?api-version=${API_VERSION}`;
  try {
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const response = await client.sendRequest(createPipelineRequest({ url, method: "GET" }));
      const text = response.bodyAsText ?? undefined;
      if (response.status >= 400)
        throw Object.assign(new Error(`permissions: ${response.status}`), {
          statusCode: response.status,
          response,
          ...armErrorFields(text),
        });
      const parsed = pageSchema.parse(JSON.parse(text ?? "{}"));
      out.push(...parsed.value);
      url = parsed.nextLink ?? undefined;
    }
    return out;
  } catch (error) {
    throw toAzureError(error, { action: "read your permissions in this subscription", requiredRole: "Reader" });
  }
}
