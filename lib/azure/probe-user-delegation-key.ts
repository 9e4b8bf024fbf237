// Ask one storage account for a user delegation key as the vendor's app, only to learn whether it may: the key is dropped.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { blobServiceClient } from "./clients";
import { AzureOperationError, toAzureError } from "./errors";
import { deadline, formatSeconds, noteAnswer, requestTimeoutMs } from "./timeouts";

/** refused: Storage said 403; allowed: a key came back (whoever holds it can sign SAS for what the app may read there). */
export type DelegationKeyProbe = { kind: "refused"; azureCode: string } | { kind: "allowed" };

/** POST /?restype=service&comp=userdelegationkey for a one-minute key. */
export async function probeUserDelegationKey(credential: TokenCredential, blobEndpoint: string): Promise<DelegationKeyProbe> {
  const ms = requestTimeoutMs();
  const limit = deadline(ms);
  try {
    const now = new Date();
    await blobServiceClient(blobEndpoint, credential).getUserDelegationKey(now, new Date(now.getTime() + 60_000), {
      abortSignal: limit.signal,
    });
    noteAnswer();
    return { kind: "allowed" };
  } catch (error) {
    const e = error as { statusCode?: number; code?: string };
    if (e.statusCode === 403) return { kind: "refused", azureCode: e.code ?? "AuthorizationPermissionMismatch" };
    if (limit.timedOut())
      throw new AzureOperationError(
        "timeout",
        `Azure Storage did not answer within ${formatSeconds(ms)}, so the portal could not ask for a user delegation key. Retry in a moment.`,
      );
    throw toAzureError(error, {
      action: "ask for a user delegation key",
      requiredRole: "Storage Blob Data Reader (it includes generateUserDelegationKey)",
    });
  }
}
