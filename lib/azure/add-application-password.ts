// Create a client secret on the vendor's app registration.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { AzureOperationError, toAzureError } from "./errors";
import { graphClient, parseGraph } from "./graph-client";

/** A new client secret. */
export interface ApplicationPassword {
  keyId: string;
  /**
   * The secret itself. Graph returns it exactly once; whoever holds this object must hand it to the vendor or encrypt
   * it, and never log it or put it in an error message (it grants read access to the audit logs).
   */
  secretText: string;
  /** First characters of the secret, safe to show. */
  hint: string;
  endDateTime: string;
}

const passwordSchema = z.object({
  keyId: z.string().min(1),
  secretText: z.string().min(1),
  hint: z.string().nullish(),
  endDateTime: z.string().min(1),
});

/** Longest secret lifetime the portal offers (the Entra portal's own maximum is 24 months). */
export const MAX_SECRET_LIFETIME_DAYS = 730;

/** End date `lifetimeDays` from `now`, as Graph wants it (ISO 8601, UTC). */
export function secretEndDateTime(lifetimeDays: number, now: Date = new Date()): string {
  if (!Number.isInteger(lifetimeDays) || lifetimeDays < 1 || lifetimeDays > MAX_SECRET_LIFETIME_DAYS) {
    throw new AzureOperationError("invalid_request", `A secret must live between 1 and ${MAX_SECRET_LIFETIME_DAYS} days.`);
  }
  return new Date(now.getTime() + lifetimeDays * 86_400_000).toISOString();
}

/** A new secret valid for `lifetimeDays`; `displayName` tells admins what it is for in the Entra portal. */
export async function addApplicationPassword(
  credential: TokenCredential,
  applicationObjectId: string,
  input: { displayName: string; lifetimeDays: number },
): Promise<ApplicationPassword> {
  const endDateTime = secretEndDateTime(input.lifetimeDays);
  let body: unknown;
  try {
    body = await graphClient(credential)
      .api(`/applications/${encodeURIComponent(applicationObjectId)}/addPassword`)
      .post({ passwordCredential: { displayName: input.displayName, endDateTime } });
  } catch (error) {
    throw toAzureError(error, {
      action: "create a client secret for the vendor's app",
      requiredRole: "an owner of the app, Application Administrator or Cloud Application Administrator",
      whoCanGrant: "a Global Administrator or Privileged Role Administrator",
    });
  }
  // parseGraph's error names only the failing field, never the payload, so the secret can't leak through it.
  const p = parseGraph(passwordSchema, body, "a new client secret");
  return { keyId: p.keyId, secretText: p.secretText, hint: p.hint ?? p.secretText.slice(0, 3), endDateTime: p.endDateTime };
}
