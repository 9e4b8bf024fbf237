// Read an app registration by its uniqueName (the portal's stable key for the vendor's app).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { toAzureError } from "./errors";
import { graphClient, isGraphNotFound, odataString, parseGraph } from "./graph-client";

/** An app registration as the portal needs it. */
export interface ApplicationInfo {
  /** Object id: the key for addPassword and updates. */
  id: string;
  /** Application (client) id: what the vendor signs in with. */
  appId: string;
  displayName: string;
  uniqueName: string | null;
}

const applicationSchema = z.object({
  id: z.string().min(1),
  appId: z.string().min(1),
  displayName: z.string().nullish(),
  uniqueName: z.string().nullish(),
});

const APPLICATION_SELECT = "id,appId,displayName,uniqueName";

/** Graph payload → domain type. */
export function toApplicationInfo(body: unknown): ApplicationInfo {
  const a = parseGraph(applicationSchema, body, "an application");
  return { id: a.id, appId: a.appId, displayName: a.displayName ?? "", uniqueName: a.uniqueName ?? null };
}

/** Graph path of an application by uniqueName. */
export function applicationByUniqueNamePath(uniqueName: string): string {
  return `/applications(uniqueName=${encodeURIComponent(odataString(uniqueName))})`;
}

/** The app registration, or null when none has this uniqueName. */
export async function getApplicationByUniqueName(credential: TokenCredential, uniqueName: string): Promise<ApplicationInfo | null> {
  try {
    const body: unknown = await graphClient(credential).api(applicationByUniqueNamePath(uniqueName)).select(APPLICATION_SELECT).get();
    return toApplicationInfo(body);
  } catch (error) {
    if (isGraphNotFound(error)) return null;
    throw toAzureError(error, { action: "read the vendor's app registration", requiredRole: "the Application.Read.All permission" });
  }
}
