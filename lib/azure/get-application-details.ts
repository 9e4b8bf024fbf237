// Read an app registration by uniqueName with what a step compares: declared permissions and client secrets (metadata only).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { toAzureError } from "./errors";
import { applicationByUniqueNamePath } from "./get-application-by-unique-name";
import { graphClient, isGraphNotFound, parseGraph } from "./graph-client";

/** A client secret as Graph lists it: never the secret itself. */
export interface PasswordCredentialInfo {
  keyId: string;
  displayName: string | null;
  hint: string | null;
  endDateTime: string | null;
}

/** An app registration with its declared permissions and secrets. */
export interface ApplicationDetails {
  id: string;
  appId: string;
  displayName: string;
  uniqueName: string | null;
  createdDateTime: string | null;
  requiredResourceAccess: { resourceAppId: string; resourceAccess: { id: string; type: string }[] }[];
  passwordCredentials: PasswordCredentialInfo[];
}

const detailsSchema = z.object({
  id: z.string().min(1),
  appId: z.string().min(1),
  displayName: z.string().nullish(),
  uniqueName: z.string().nullish(),
  createdDateTime: z.string().nullish(),
  requiredResourceAccess: z
    .array(z.object({ resourceAppId: z.string(), resourceAccess: z.array(z.object({ id: z.string(), type: z.string() })).nullish() }))
    .nullish(),
  passwordCredentials: z
    .array(
      z.object({
        keyId: z.string().min(1),
        displayName: z.string().nullish(),
        hint: z.string().nullish(),
        endDateTime: z.string().nullish(),
      }),
    )
    .nullish(),
});

const DETAILS_SELECT = "id,appId,displayName,uniqueName,createdDateTime,requiredResourceAccess,passwordCredentials";

/** The app registration with permissions and secret metadata, or null when none has this uniqueName. */
export async function getApplicationDetails(credential: TokenCredential, uniqueName: string): Promise<ApplicationDetails | null> {
  let body: unknown;
  try {
    body = await graphClient(credential).api(applicationByUniqueNamePath(uniqueName)).select(DETAILS_SELECT).get();
  } catch (error) {
    if (isGraphNotFound(error)) return null;
    throw toAzureError(error, { action: "read the vendor's app registration", requiredRole: "the Application.Read.All permission" });
  }
  const a = parseGraph(detailsSchema, body, "an application");
  return {
    id: a.id,
    appId: a.appId,
    displayName: a.displayName ?? "",
    uniqueName: a.uniqueName ?? null,
    createdDateTime: a.createdDateTime ?? null,
    requiredResourceAccess: (a.requiredResourceAccess ?? []).map((r) => ({
      resourceAppId: r.resourceAppId,
      resourceAccess: r.resourceAccess ?? [],
    })),
    passwordCredentials: (a.passwordCredentials ?? []).map((p) => ({
      keyId: p.keyId,
      displayName: p.displayName ?? null,
      hint: p.hint ?? null,
      endDateTime: p.endDateTime ?? null,
    })),
  };
}
