// List app role grants of a service principal: given out by it as a resource, or held by it as a principal.
import "server-only";
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

/**
 * Grants following Graph's paging. side "resource": every grant of this service principal's app roles
 * (appRoleAssignedTo: for Log Analytics API, tenant-wide). side "principal": the app roles this service principal holds
 * (appRoleAssignments: short, the cheap way to verify one grant).
 */
export async function listAppRoleAssignments(
  credential: TokenCredential,
  servicePrincipalId: string,
  side: "resource" | "principal" = "resource",
): Promise<AppRoleAssignmentInfo[]> {
  const client = graphClient(credential);
  const out: AppRoleAssignmentInfo[] = [];
  try {
    const segment = side === "resource" ? "appRoleAssignedTo" : "appRoleAssignments";
    let next: string | undefined = `/servicePrincipals/${encodeURIComponent(servicePrincipalId)}/${segment}`;
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
