// Create a short-lived client secret for the portal's own verification sign-in as the vendor's app.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { toAzureError } from "./errors";
import { graphClient, parseGraph } from "./graph-client";

/** displayName of verification secrets, so a leftover one (crash before its removal) can be found and removed. */
export const VERIFICATION_SECRET_NAME = "AKS onboarding verification";

/** A verification secret; `secretText` must only be used in memory and never logged or stored. */
export interface VerificationPassword {
  keyId: string;
  secretText: string;
  endDateTime: string;
}

const passwordSchema = z.object({ keyId: z.string().min(1), secretText: z.string().min(1), endDateTime: z.string().min(1) });

/** A secret named VERIFICATION_SECRET_NAME that expires `lifetimeMs` from `now` (1 h by default). */
export async function addVerificationPassword(
  credential: TokenCredential,
  applicationObjectId: string,
  { now = new Date(), lifetimeMs = 3_600_000 }: { now?: Date; lifetimeMs?: number } = {},
): Promise<VerificationPassword> {
  let body: unknown;
  try {
    body = await graphClient(credential)
      .api(`/applications/${encodeURIComponent(applicationObjectId)}/addPassword`)
      .post({
        passwordCredential: { displayName: VERIFICATION_SECRET_NAME, endDateTime: new Date(now.getTime() + lifetimeMs).toISOString() },
      });
  } catch (error) {
    throw toAzureError(error, {
      action: "create a short-lived secret to verify the vendor's app",
      requiredRole: "an owner of the app, Application Administrator or Cloud Application Administrator",
      whoCanGrant: "a Global Administrator or Privileged Role Administrator",
    });
  }
  const p = parseGraph(passwordSchema, body, "a new client secret");
  return { keyId: p.keyId, secretText: p.secretText, endDateTime: p.endDateTime };
}
