// List the kube-audit blobs of one storage account with a bearer credential (the vendor app's, in verification).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { blobServiceClient } from "./clients";
import { AzureOperationError, toAzureError } from "./errors";
import { deadline, formatSeconds, noteAnswer, requestTimeoutMs } from "./timeouts";

/** Azure Monitor's container for AKS kube-audit resource logs. */
export const KUBE_AUDIT_CONTAINER = "insights-logs-kube-audit";

export interface BlobSummary {
  name: string;
  lastModified: Date;
  size: number;
}

/** ok; container_missing: listing was allowed but Azure Monitor hasn't written yet; denied: 403 (RBAC, ABAC or firewall). */
export type BlobListing = { kind: "ok"; blobs: BlobSummary[] } | { kind: "container_missing" } | { kind: "denied"; azureCode: string };

const LIMIT = 5000;

/** Blobs under `resourceId=` in the kube-audit container (at most 5000), or why they can't be listed. */
export async function listKubeAuditBlobs(credential: TokenCredential, blobEndpoint: string): Promise<BlobListing> {
  const action = "list the kube-audit blobs";
  // One limit for the whole listing: at most 5000 blobs is one page of List Blobs.
  const ms = requestTimeoutMs();
  const limit = deadline(ms);
  try {
    const container = blobServiceClient(blobEndpoint, credential).getContainerClient(KUBE_AUDIT_CONTAINER);
    const blobs: BlobSummary[] = [];
    for await (const b of container.listBlobsFlat({ prefix: "resourceId=", abortSignal: limit.signal })) {
      blobs.push({ name: b.name, lastModified: b.properties.lastModified, size: b.properties.contentLength ?? 0 });
      if (blobs.length >= LIMIT) break;
    }
    noteAnswer();
    return { kind: "ok", blobs };
  } catch (error) {
    const e = error as { statusCode?: number; code?: string };
    if (e.statusCode === 403) return { kind: "denied", azureCode: e.code ?? "AuthorizationFailure" };
    if (e.statusCode === 404 && e.code === "ContainerNotFound") return { kind: "container_missing" };
    if (limit.timedOut())
      throw new AzureOperationError(
        "timeout",
        `Azure Storage did not answer within ${formatSeconds(ms)}, so the portal could not ${action}. Retry in a moment.`,
      );
    throw toAzureError(error, { action, requiredRole: "Storage Blob Data Reader" });
  }
}
