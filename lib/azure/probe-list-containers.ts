// Ask one storage account to List Containers as the vendor's app, only to learn whether it may: the names are dropped.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { blobServiceClient } from "./clients";
import { AzureOperationError, toAzureError } from "./errors";
import { deadline, formatSeconds, noteAnswer, requestTimeoutMs } from "./timeouts";

/** refused: Storage said 403; allowed: a page of container names came back. */
export type ListContainersProbe = { kind: "refused"; azureCode: string } | { kind: "allowed" };

/** GET /?comp=list (one page): allowed by …/blobServices/containers/read on the account, e.g. any "*\/read" role. */
export async function probeListContainers(credential: TokenCredential, blobEndpoint: string): Promise<ListContainersProbe> {
  const ms = requestTimeoutMs();
  const limit = deadline(ms);
  try {
    const pages = blobServiceClient(blobEndpoint, credential).listContainers({ abortSignal: limit.signal }).byPage({ maxPageSize: 1 });
    await pages.next();
    noteAnswer();
    return { kind: "allowed" };
  } catch (error) {
    const e = error as { statusCode?: number; code?: string };
    if (e.statusCode === 403) return { kind: "refused", azureCode: e.code ?? "AuthorizationPermissionMismatch" };
    if (limit.timedOut())
      throw new AzureOperationError(
        "timeout",
        `Azure Storage did not answer within ${formatSeconds(ms)}, so the portal could not list containers. Retry in a moment.`,
      );
    throw toAzureError(error, {
      action: "list containers",
      requiredRole: "a role with Microsoft.Storage/storageAccounts/blobServices/containers/read",
    });
  }
}
