// Read the first bytes of one blob with a bearer credential: proves blob read access without downloading a whole log.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { blobServiceClient } from "./clients";
import { AzureOperationError, toAzureError } from "./errors";
import { deadline, formatSeconds, noteAnswer, requestTimeoutMs } from "./timeouts";

export type BlobRead = { kind: "ok"; bytes: number } | { kind: "denied"; azureCode: string };

/** Up to `length` bytes from the start of `container/blobName`. */
export async function readBlobStart(
  credential: TokenCredential,
  blobEndpoint: string,
  container: string,
  blobName: string,
  length = 1024,
): Promise<BlobRead> {
  const ms = requestTimeoutMs();
  // The signal also bounds draining the body below.
  const limit = deadline(ms);
  try {
    const blob = blobServiceClient(blobEndpoint, credential).getContainerClient(container).getBlobClient(blobName);
    const response = await blob.download(0, length, { abortSignal: limit.signal });
    let bytes = 0;
    // Drain the stream so the socket is released; the content itself isn't needed.
    for await (const chunk of response.readableStreamBody ?? []) bytes += (chunk as Buffer).length;
    noteAnswer();
    return { kind: "ok", bytes };
  } catch (error) {
    const e = error as { statusCode?: number; code?: string };
    if (e.statusCode === 403) return { kind: "denied", azureCode: e.code ?? "AuthorizationFailure" };
    // A range read of an empty blob (a new hour's kube-audit append blob) answers 416 InvalidRange, "bytes */0", after
    // authorization succeeded: read access is proven (Azure/azure-sdk-for-net#10827, floci-io/floci-az#81).
    if (e.statusCode === 416) {
      noteAnswer();
      return { kind: "ok", bytes: 0 };
    }
    if (limit.timedOut())
      throw new AzureOperationError(
        "timeout",
        `Azure Storage did not answer within ${formatSeconds(ms)}, so the portal could not read the blob ${blobName}. Retry in a moment.`,
      );
    throw toAzureError(error, { action: `read the blob ${blobName}`, requiredRole: "Storage Blob Data Reader" });
  }
}
