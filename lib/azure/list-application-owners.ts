// Owners of the vendor's app registration: an owner may manage its credentials without a directory role.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { toAzureError } from "./errors";
import { applicationByUniqueNamePath } from "./get-application-by-unique-name";
import { graphClient, isGraphNotFound, parseGraph } from "./graph-client";

const pageSchema = z.object({ value: z.array(z.object({ id: z.string() })), "@odata.nextLink": z.string().nullish() });

/** Object ids of the app's owners (GET /applications(uniqueName=…)/owners, Application.Read.All), or null when it doesn't exist. */
export async function listApplicationOwners(credential: TokenCredential, uniqueName: string): Promise<string[] | null> {
  const client = graphClient(credential);
  const out: string[] = [];
  try {
    let next: string | undefined = `${applicationByUniqueNamePath(uniqueName)}/owners?$select=id`;
    for (let page = 0; next && page < 20; page++) {
      const body: z.infer<typeof pageSchema> = parseGraph(pageSchema, await client.api(next).get(), "the app's owners");
      out.push(...body.value.map((o) => o.id.toLowerCase()));
      next = body["@odata.nextLink"] ?? undefined;
    }
    return out;
  } catch (error) {
    if (isGraphNotFound(error)) return null;
    throw toAzureError(error, {
      action: "read the owners of the vendor's app registration",
      requiredRole: "the Application.Read.All permission",
    });
  }
}
