// The signed-in user's Entra directory roles (direct or through role-assignable groups), by role template id.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { toAzureError } from "./errors";
import { graphClient, parseGraph } from "./graph-client";

const pageSchema = z.object({
  value: z.array(z.object({ roleTemplateId: z.string().nullish(), displayName: z.string().nullish() })),
  "@odata.nextLink": z.string().nullish(),
});

const MAX_PAGES = 20;

/**
 * GET /me/transitiveMemberOf/microsoft.graph.directoryRole. Least privilege for the signed-in user's own memberships is
 * User.Read (learn.microsoft.com/graph/api/user-list-transitivememberof; microsoftgraph/msgraph-sdk-dotnet#778 confirms
 * directory roles come back with User.Read alone). Only active assignments count: an eligible PIM role is not a role yet.
 */
export async function listMyDirectoryRoles(credential: TokenCredential): Promise<{ roleTemplateId: string; displayName: string }[]> {
  const client = graphClient(credential);
  const out: { roleTemplateId: string; displayName: string }[] = [];
  try {
    let next: string | undefined = "/me/transitiveMemberOf/microsoft.graph.directoryRole?$select=roleTemplateId,displayName";
    for (let page = 0; next && page < MAX_PAGES; page++) {
      const body: z.infer<typeof pageSchema> = parseGraph(pageSchema, await client.api(next).get(), "your directory roles");
      for (const r of body.value)
        if (r.roleTemplateId) out.push({ roleTemplateId: r.roleTemplateId.toLowerCase(), displayName: r.displayName ?? "" });
      next = body["@odata.nextLink"] ?? undefined;
    }
    return out;
  } catch (error) {
    throw toAzureError(error, { action: "read your Microsoft Entra roles", requiredRole: "the User.Read permission" });
  }
}
