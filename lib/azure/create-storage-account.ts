// Create (or bring back to the secure baseline) the audit-log storage account of one AKS region.
import "server-only";
import type { StorageAccountCreateParameters } from "@azure/arm-storage";
import type { TokenCredential } from "@azure/core-auth";
import { setTimeout as delay } from "node:timers/promises";
import { AzureOperationError, retryAfterFromHeaders, toAzureError } from "./errors";
import { toStorageAccountInfo, type StorageAccountInfo } from "./get-storage-account";
import { storageClient } from "./clients";
import { deadline, formatSeconds, lroBudgetMs } from "./timeouts";

/** The account to create. */
export interface CreateStorageAccountInput {
  name: string;
  /** The AKS region: diagnostic settings only deliver to an account in the cluster's region. */
  location: string;
  tags?: Record<string, string>;
  /** Restrict the firewall to these public IPv4 addresses/ranges (the vendor's egress); omit to leave it open. */
  allowedIps?: string[];
}

/** Network rules for the account: open, or deny-by-default with the vendor's IPs. */
export function storageNetworkRules(allowedIps: string[] | undefined): StorageAccountCreateParameters["networkRuleSet"] {
  if (allowedIps === undefined) return { defaultAction: "Allow", bypass: "AzureServices" };
  return {
    defaultAction: "Deny",
    // Azure Monitor writes resource logs as a trusted Microsoft service: without this bypass the logs never arrive.
    bypass: "AzureServices",
    // Storage wants bare addresses, not /32 (and no /31); it rejects private ranges.
    ipRules: allowedIps.map((ip) => ({ iPAddressOrRange: ip.replace(/\/32$/, ""), action: "Allow" })),
  };
}

/** The secure create body: StorageV2/LRS, TLS 1.2, HTTPS only, no public blobs, no cross-tenant replication. */
export function storageAccountCreateParameters(input: CreateStorageAccountInput): StorageAccountCreateParameters {
  return {
    location: input.location,
    kind: "StorageV2",
    sku: { name: "Standard_LRS" },
    ...(input.tags ? { tags: input.tags } : {}),
    minimumTlsVersion: "TLS1_2",
    allowBlobPublicAccess: false,
    enableHttpsTrafficOnly: true,
    allowCrossTenantReplication: false,
    publicNetworkAccess: "Enabled",
    networkRuleSet: storageNetworkRules(input.allowedIps),
  };
}

/**
 * Create the account and wait for the long-running operation, at most AZURE_LRO_BUDGET_SECONDS in all (each request
 * has its own limit besides); on an existing account of ours, PUT re-applies the baseline.
 */
export async function createStorageAccount(
  credential: TokenCredential,
  subscriptionId: string,
  resourceGroup: string,
  input: CreateStorageAccountInput,
): Promise<StorageAccountInfo> {
  const budgetMs = lroBudgetMs();
  const budget = deadline(budgetMs);
  try {
    let retryAfterMs: number | undefined;
    const poller = storageClient(credential, subscriptionId).storageAccounts.create(
      resourceGroup,
      input.name,
      storageAccountCreateParameters(input),
      {
        abortSignal: budget.signal,
        // Only the PUT goes through onResponse (the poller's GETs don't): its Retry-After says when the first poll is worth it.
        onResponse: (raw) => {
          retryAfterMs = retryAfterFromHeaders(raw.headers);
        },
      },
    );
    // core-lro polls once immediately after the 202 and honours Retry-After only from then on; ARM's Retry-After on a
    // new account (~17 s in public Azure) makes that first poll a wasted request, so wait it out before polling.
    await poller.submitted();
    if (!poller.isDone && retryAfterMs !== undefined) await delay(retryAfterMs, undefined, { signal: budget.signal });
    return toStorageAccountInfo(await poller.pollUntilDone({ abortSignal: budget.signal }));
  } catch (error) {
    if (budget.timedOut()) {
      // Re-sending the same PUT is safe (it re-applies the baseline): the engine retries this like any transient failure.
      throw new AzureOperationError(
        "timeout",
        `Azure did not finish creating the storage account ${input.name} within ${formatSeconds(budgetMs)}. Retry; the next attempt picks up the account if Azure finished it meanwhile.`,
      );
    }
    throw toAzureError(error, {
      action: `create the storage account ${input.name}`,
      requiredRole: "Contributor or Storage Account Contributor on the resource group",
    });
  }
}
