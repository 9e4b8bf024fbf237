// List who holds app roles of a resource's service principal (e.g. who was granted Log Analytics Data.Read).
import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { toAzureError } from "./errors";
import { graphClient, parseGraph } from "./graph-client";

/** One app role granted to a principal. */
export interface AppRoleAssignmentInfo {
  id: string;
  principalId: string;
  principalType: string;
  resourceId: string;
  appRoleId: string;
}

const assignmentSchema = z.object({
  id: z.string().min(1),
  principalId: z.string().min(1),
  principalType: z.string().nullish(),
  resourceId: z.string().min(1),
  appRoleId: z.string().min(1),
});
const pageSchema = z.object({ value: z.array(assignmentSchema), "@odata.nextLink": z.string().optional() });

/** Graph payload → domain type. */
export function toAppRoleAssignmentInfo(body: unknown): AppRoleAssignmentInfo {
  const a = parseGraph(assignmentSchema, body, "an app role assignment");
  return { id: a.id, principalId: a.principalId, principalType: a.principalType ?? "", resourceId: a.resourceId, appRoleId: a.appRoleId };
}

const MAX_PAGES = 50;

/** Every grant of the resource's app roles (appRoleAssignedTo), following Graph's paging. */
export async function listAppRoleAssignments(credential: TokenCredential, resourceServicePrincipalId: string): Promise<AppRoleAssignmentInfo[]> {
  const client = graphClient(credential);
  const out: AppRoleAssignmentInfo[] = [];
  try {
    let next: string | undefined = `/servicePrincipals/${encodeURIComponent(resourceServicePrincipalId)}/appRoleAssignedTo`;
    for (let page = 0; next && page < MAX_PAGES; page++) {
      const raw: unknown = await client.api(next).get();
      const body: z.infer<typeof pageSchema> = parseGraph(pageSchema, raw, "app role assignments");
      out.push(...body.value.map(toAppRoleAssignmentInfo));
      next = body["@odata.nextLink"];
    }
    return out;
  } catch (error) {
    throw toAzureError(error, {
      action: "read the app's granted permissions",
      requiredRole: "the Application.Read.All permission",
    });
  }
}
