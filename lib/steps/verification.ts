// Step: sign in as the vendor's app and prove, check by check, that it can read what it needs and nothing more.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { z } from "zod";
import { addVerificationPassword, VERIFICATION_SECRET_NAME } from "@/lib/azure/add-verification-password";
import { acquireFirstToken, appCredential } from "@/lib/azure/app-credential";
import { AzureOperationError, classifyAzureError } from "@/lib/azure/errors";
import { getManagedCluster } from "@/lib/azure/get-managed-cluster";
import { getStorageAccount } from "@/lib/azure/get-storage-account";
import { listKubeAuditBlobs, KUBE_AUDIT_CONTAINER, type BlobSummary } from "@/lib/azure/list-kube-audit-blobs";
import { listLogAnalyticsWorkspaces } from "@/lib/azure/list-log-analytics-workspaces";
import { listManagedClusters } from "@/lib/azure/list-managed-clusters";
import { listStorageAccounts } from "@/lib/azure/list-storage-accounts";
import { probeClusterUserCredential } from "@/lib/azure/probe-cluster-user-credential";
import { probeListContainers } from "@/lib/azure/probe-list-containers";
import { probeUserDelegationKey } from "@/lib/azure/probe-user-delegation-key";
import { queryLogAnalytics } from "@/lib/azure/query-log-analytics";
import { readBlobStart } from "@/lib/azure/read-blob-start";
import { removeApplicationPassword } from "@/lib/azure/remove-application-password";
import { env } from "@/lib/env";
import { CLIENT_SECRET_KIND } from "./app-registration";
import type { ClusterChoice } from "./config";
import type { StepContext, StepModule, VerifyResult } from "./types";
import { failureMessage, newestBlobOf, type CheckStatus, type VerificationCheck, type VerificationOutput } from "./verification-results";

/** What verification starts from: the app, the hand-off mode and whether the run's secret is still stored. */
export interface VerificationLive {
  app: { applicationObjectId: string; appId: string } | null;
  handoffMode: "api" | "manual" | null;
  secretStored: boolean;
}

/** Thrown when a check failed: the step fails with a clear reason, and the engine keeps `output` for the run page. */
export class VerificationFailedError extends AzureOperationError {
  constructor(
    message: string,
    readonly output: VerificationOutput,
  ) {
    super("unknown", message);
    this.name = "VerificationFailedError";
  }
}

const appOutputSchema = z.object({ applicationObjectId: z.string().min(1), appId: z.string().min(1) });
const handoffOutputSchema = z.object({ mode: z.enum(["api", "manual"]) });
const storageOutputSchema = z.object({
  accounts: z.array(
    z.object({
      region: z.string(),
      subscriptionId: z.string(),
      resourceGroup: z.string(),
      name: z.string(),
      blobEndpoint: z.string().optional(),
    }),
  ),
});

interface AuditAccount {
  region: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  blobEndpoint: string | undefined;
}

const roleAssignmentsOutputSchema = z.object({
  clusters: z.array(z.object({ clusterId: z.string(), entraIntegration: z.boolean() })).optional(),
});
const diagnosticSettingsOutputSchema = z.object({
  blocked: z
    .array(z.object({ clusterId: z.string(), clusterName: z.string(), reason: z.string(), code: z.string().optional() }))
    .optional(),
});

/** A cluster the diagnostic-settings step couldn't onboard (done with exceptions): no kube-audit is expected from it. */
interface BlockedCluster {
  clusterId: string;
  clusterName: string;
  reason: string;
  code?: string;
}

const LOG_ANALYTICS_QUERY = "print ok=1";

/** The verification step's operation-log keys: a temporary secret and its removal (it leaves nothing, so it has no removal). */
export const verificationKeys = {
  secret: (applicationObjectId: string) => `verification.secret:${applicationObjectId}`,
  secretRemove: (keyId: string) => `verification.secret-remove:${keyId}`,
};

async function read(ctx: StepContext): Promise<VerificationLive> {
  const app = appOutputSchema.safeParse(ctx.outputs["app-registration"]);
  const handoff = handoffOutputSchema.safeParse(ctx.outputs["workbench-handoff"]);
  return {
    app: app.success ? app.data : null,
    handoffMode: handoff.success ? handoff.data.mode : null,
    secretStored: (await ctx.secrets.get(CLIENT_SECRET_KIND)) !== null,
  };
}

/** The run's audit accounts: the storage step's outputs, else the configuration (endpoint read later). */
function auditAccounts(ctx: StepContext): AuditAccount[] {
  const parsed = storageOutputSchema.safeParse(ctx.outputs.storage);
  if (parsed.success && parsed.data.accounts.length) return parsed.data.accounts.map((a) => ({ ...a, blobEndpoint: a.blobEndpoint }));
  return ctx.config.storage.map((s) => ({
    region: s.region,
    subscriptionId: s.subscriptionId,
    resourceGroup: s.resourceGroup,
    name: s.accountName,
    blobEndpoint: undefined,
  }));
}

/** Clusters the diagnostic-settings step left out, by lower-case id. */
function blockedClusters(ctx: StepContext): Map<string, BlockedCluster> {
  const parsed = diagnosticSettingsOutputSchema.safeParse(ctx.outputs["diagnostic-settings"]);
  return new Map((parsed.success ? (parsed.data.blocked ?? []) : []).map((b) => [b.clusterId.toLowerCase(), b]));
}

/** A blocked cluster that no longer exists: nothing of it is left to read. */
const isGone = (b: BlockedCluster | undefined) => b?.code === "cluster_gone";

/** Selected clusters known to lack Microsoft Entra integration: as the role-assignments step read them, else as recorded. */
function clustersWithoutEntra(ctx: StepContext): ClusterChoice[] {
  const parsed = roleAssignmentsOutputSchema.safeParse(ctx.outputs["role-assignments"]);
  const decided = new Map((parsed.success ? (parsed.data.clusters ?? []) : []).map((c) => [c.clusterId.toLowerCase(), c.entraIntegration]));
  return ctx.config.clusters.filter((c) => (decided.get(c.id.toLowerCase()) ?? c.entraIntegration) === false);
}

const sameRegion = (a: string, b: string) => a.toLowerCase().replace(/\s+/g, "") === b.toLowerCase().replace(/\s+/g, "");

/** Errors that belong to the engine (the admin's sign-in expired; throttling or an outage it retries), not to a check. */
function isEngineError(error: unknown): boolean {
  if (error instanceof Error && error.name === "TokenUnavailableError") return true;
  if (error instanceof AzureOperationError && error.code === "reauth_required") return true;
  return classifyAzureError(error) === "transient";
}

function reasonOf(error: unknown): string {
  if (error instanceof AzureOperationError) return error.message;
  return "An unexpected error stopped this check. Run verification again; if it persists, check the portal's logs.";
}

class Checks {
  readonly list: VerificationCheck[] = [];
  add(id: string, label: string, status: CheckStatus, reason: string, extra: { newestBlobAt?: string } = {}): void {
    this.list.push({ id, label, status, reason, at: new Date().toISOString(), ...extra });
  }
  /** Runs `fn`; an Azure error becomes a failed check, what the engine handles (sign-in, transient) goes to it. */
  async run(id: string, label: string, fn: () => Promise<{ status: CheckStatus; reason: string; newestBlobAt?: string }>): Promise<void> {
    try {
      const r = await fn();
      this.add(id, label, r.status, r.reason, r.newestBlobAt ? { newestBlobAt: r.newestBlobAt } : {});
    } catch (error) {
      if (isEngineError(error)) throw error;
      this.add(id, label, "fail", reasonOf(error));
    }
  }
}

async function runChecks(ctx: StepContext, appId: string, secret: string, checks: Checks): Promise<boolean> {
  const credential = appCredential({ tenantId: ctx.tenantId, clientId: appId, secret });
  const signIn = await acquireFirstToken(credential, `${env().ARM_AUDIENCE}/.default`);
  if (!signIn.ok) {
    checks.add("sign-in", "Sign in as the app", "fail", signIn.message);
    checks.add("rest", "Remaining checks", "skipped", "Not run: they need the app's sign-in.");
    return false;
  }
  const waited =
    signIn.attempts > 1
      ? ` after ${signIn.attempts} attempts over ${Math.round(signIn.waitedMs / 1000)} s (Entra was still replicating the new secret)`
      : "";
  checks.add("sign-in", "Sign in as the app", "pass", `Got a token with the app's client secret${waited}.`);

  await clusterChecks(ctx, credential, checks);
  await credentialChecks(ctx, credential, checks);
  const accounts = await blobChecks(ctx, credential, checks);
  await abacChecks(ctx, credential, accounts, checks);
  await storageScopeCheck(ctx, credential, accounts, checks);
  await logAnalyticsChecks(ctx, credential, checks);
  return true;
}

/** On clusters without Microsoft Entra integration a user kubeconfig is cluster-admin: the app must not get one. */
async function credentialChecks(ctx: StepContext, credential: TokenCredential, checks: Checks): Promise<void> {
  const gone = blockedClusters(ctx);
  for (const c of clustersWithoutEntra(ctx).filter((x) => !isGone(gone.get(x.id.toLowerCase())))) {
    await checks.run(`aks-credential:${c.id}`, `No kubeconfig of ${c.name} (no Microsoft Entra integration)`, async () => {
      const probe = await probeClusterUserCredential(credential, c.subscriptionId, c.resourceGroup, c.name);
      if (probe.kind === "refused")
        return {
          status: "pass",
          reason: `AKS refused the app its user credential (${probe.azureCode}): it sees the cluster's metadata only.`,
        };
      return {
        status: "fail",
        reason: `The app can download a kubeconfig of ${c.name}, which without Microsoft Entra integration is cluster-admin. Some assignment of the app grants listClusterUserCredential there (a subscription-wide AKS role from an earlier run, or one made outside the portal): re-apply Role assignments, and remove any other such assignment of the app in the Azure portal.`,
      };
    });
  }
}

/** One storage account of the selected subscriptions that isn't an audit account (the first by subscription, then name), or null. */
async function otherAccount(ctx: StepContext, accounts: AuditAccount[]): Promise<{ name: string; blobEndpoint: string } | null> {
  const ours = new Set(accounts.map((a) => a.name.toLowerCase()));
  for (const s of [...ctx.config.subscriptions].sort((a, b) => a.id.localeCompare(b.id))) {
    const found = (await listStorageAccounts(ctx.arm, s.id)).find((a) => !ours.has(a.name.toLowerCase()) && a.blobEndpoint);
    if (found?.blobEndpoint) return { name: found.name, blobEndpoint: found.blobEndpoint };
  }
  return null;
}

/**
 * Outside the audit accounts the app must hold no storage control-plane action (Storage Blob Data Reader's condition gates
 * data actions only; any "*\/read" role lists containers). Probed as the app in one other account of the selected
 * subscriptions: List Containers (…/blobServices/containers/read) and a user delegation key (…/generateUserDelegationKey/action).
 */
async function storageScopeCheck(ctx: StepContext, credential: TokenCredential, accounts: AuditAccount[], checks: Checks): Promise<void> {
  let other: Promise<{ name: string; blobEndpoint: string } | null> | undefined;
  const probes: {
    id: string;
    label: string;
    probe: (endpoint: string) => Promise<{ kind: "refused"; azureCode: string } | { kind: "allowed" }>;
    pass: string;
    fail: string;
  }[] = [
    {
      id: "container-list",
      label: "No container listing outside the audit accounts",
      probe: (endpoint) => probeListContainers(credential, endpoint),
      pass: "the list of containers in {account} ({code}): no role of the app reads that account.",
      fail: "The app can list the containers of {account}, which isn't an audit account: some assignment of the app reaches it (Log Analytics Reader, Reader or a subscription-wide Storage Blob Data Reader from an earlier run, or one made outside the portal).",
    },
    {
      id: "storage-scope",
      label: "No Storage Blob Data Reader outside the audit accounts",
      probe: (endpoint) => probeUserDelegationKey(credential, endpoint),
      pass: "a user delegation key in {account} ({code}): its blob role reaches the audit accounts only.",
      fail: "The app got a user delegation key in {account}, which isn't an audit account: some assignment of the app (a subscription-wide Storage Blob Data Reader from an earlier run, or one made outside the portal) reaches it.",
    },
  ];
  for (const p of probes) {
    await checks.run(p.id, p.label, async () => {
      const o = await (other ??= otherAccount(ctx, accounts));
      if (!o) return { status: "skipped", reason: "Not tested: no other account to test in the selected subscriptions." };
      const r = await p.probe(o.blobEndpoint);
      if (r.kind === "refused")
        return { status: "pass", reason: `Storage refused the app ${p.pass.replace("{account}", o.name).replace("{code}", r.azureCode)}` };
      return {
        status: "fail",
        reason: `${p.fail.replace("{account}", o.name)} Re-apply Role assignments, and remove any other such assignment of the app in the Azure portal.`,
      };
    });
  }
}

async function clusterChecks(ctx: StepContext, credential: TokenCredential, checks: Checks): Promise<void> {
  const blocked = blockedClusters(ctx);
  const present = ctx.config.clusters.filter((c) => !isGone(blocked.get(c.id.toLowerCase())));
  for (const c of ctx.config.clusters.filter((x) => isGone(blocked.get(x.id.toLowerCase())))) {
    checks.add(
      `aks-read:${c.id}`,
      `Read cluster ${c.name}`,
      "skipped",
      `Skipped — needs attention: ${blocked.get(c.id.toLowerCase())?.reason ?? ""}`.trim(),
    );
  }
  const subs = [...new Set(present.map((c) => c.subscriptionId))];
  for (const sub of subs) {
    const wanted = present.filter((c) => c.subscriptionId === sub);
    await checks.run(`aks-list:${sub}`, `List AKS clusters in ${subscriptionName(ctx, sub)}`, async () => {
      const seen = new Set((await listManagedClusters(credential, sub)).map((c) => c.id.toLowerCase()));
      const missing = wanted.filter((c) => !seen.has(c.id.toLowerCase())).map((c) => c.name);
      if (missing.length) {
        return {
          status: "fail",
          reason: `The app doesn't see ${missing.join(", ")}. Its read-only AKS role may be missing on this subscription or still replicating (up to 10 minutes): re-apply Role assignments or run verification again later.`,
        };
      }
      return { status: "pass", reason: `The app lists all ${wanted.length} selected cluster${wanted.length === 1 ? "" : "s"}.` };
    });
  }
  for (const c of present) {
    await checks.run(`aks-read:${c.id}`, `Read cluster ${c.name}`, async () => {
      const got = await getManagedCluster(credential, c.subscriptionId, c.resourceGroup, c.name);
      return { status: "pass", reason: `The app reads the cluster (provisioning state ${got.provisioningState ?? "unknown"}).` };
    });
  }
}

async function blobChecks(ctx: StepContext, credential: TokenCredential, checks: Checks): Promise<AuditAccount[]> {
  const accounts = auditAccounts(ctx);
  const blobsByAccount = new Map<string, BlobSummary[] | null>();
  for (const a of accounts) {
    if (!a.blobEndpoint) {
      // The admin's read: the endpoint is a property of the account, not something the app needs to read.
      a.blobEndpoint = (await getStorageAccount(ctx.arm, a.subscriptionId, a.resourceGroup, a.name))?.blobEndpoint;
    }
    const endpoint = a.blobEndpoint;
    await checks.run(`blob-list:${a.name}`, `List kube-audit blobs in ${a.name}`, async () => {
      if (!endpoint)
        return {
          status: "fail",
          reason: `The storage account ${a.name} no longer exists or has no blob endpoint. Re-apply Audit log storage.`,
        };
      const listing = await listKubeAuditBlobs(credential, endpoint);
      if (listing.kind === "denied") {
        blobsByAccount.set(a.name, null);
        return {
          status: "fail",
          reason: `Storage refused the app (${listing.azureCode}). Storage Blob Data Reader with its condition for ${a.name} is missing, still replicating (up to 10 minutes), or the account's firewall blocks the portal: re-apply Role assignments or run verification again later.`,
        };
      }
      const blobs = listing.kind === "ok" ? listing.blobs : [];
      blobsByAccount.set(a.name, blobs);
      if (listing.kind === "container_missing")
        return { status: "pass", reason: `The app may list ${KUBE_AUDIT_CONTAINER}; Azure Monitor creates it with the first logs.` };
      return { status: "pass", reason: `The app lists ${blobs.length} kube-audit blob${blobs.length === 1 ? "" : "s"}.` };
    });
    const blobs = blobsByAccount.get(a.name);
    const newest = blobs?.reduce<BlobSummary | null>((n, b) => (!n || b.lastModified > n.lastModified ? b : n), null) ?? null;
    await checks.run(`blob-read:${a.name}`, `Read a kube-audit blob in ${a.name}`, async () => {
      if (blobs === undefined || blobs === null || !endpoint) return { status: "skipped", reason: "Not run: listing the blobs failed." };
      if (!newest) return { status: "waiting", reason: "No kube-audit blob to read yet: waiting for the first logs." };
      const r = await readBlobStart(credential, endpoint, KUBE_AUDIT_CONTAINER, newest.name);
      if (r.kind === "denied")
        return { status: "fail", reason: `Storage refused to return the blob (${r.azureCode}). Re-apply Role assignments.` };
      return { status: "pass", reason: `The app reads the newest blob (${r.bytes} bytes checked).` };
    });
  }
  const blocked = blockedClusters(ctx);
  for (const c of ctx.config.clusters) {
    const block = blocked.get(c.id.toLowerCase());
    if (block) {
      // The diagnostic-settings step couldn't onboard it: no kube-audit is expected, and the run page says what to do.
      checks.add(`logs:${c.id}`, `kube-audit logs of ${c.name}`, "skipped", `Skipped — needs attention: ${block.reason}`);
      continue;
    }
    const account =
      accounts.find((a) => a.subscriptionId.toLowerCase() === c.subscriptionId.toLowerCase() && sameRegion(a.region, c.location)) ??
      accounts.find((a) => sameRegion(a.region, c.location));
    const blobs = account ? blobsByAccount.get(account.name) : undefined;
    await checks.run(`logs:${c.id}`, `kube-audit logs of ${c.name}`, async () => {
      if (!account) return { status: "fail", reason: `No audit storage account covers ${c.location}.` };
      if (!blobs) return { status: "skipped", reason: `Not checked: the app can't list ${account.name}.` };
      const newest = newestBlobOf(c.id, blobs);
      if (!newest) {
        return {
          status: "waiting",
          reason: `Waiting for first logs in ${account.name}: Azure Monitor usually delivers kube-audit within 15 minutes of the diagnostic setting.`,
        };
      }
      return {
        status: "pass",
        reason: `Newest kube-audit blob in ${account.name} written ${newest.lastModified.toISOString()}.`,
        newestBlobAt: newest.lastModified.toISOString(),
      };
    });
  }
  return accounts;
}

async function abacChecks(ctx: StepContext, credential: TokenCredential, accounts: AuditAccount[], checks: Checks): Promise<void> {
  const subs = [...new Set(accounts.map((a) => a.subscriptionId.toLowerCase()))];
  for (const sub of subs) {
    const ours = new Set(accounts.filter((a) => a.subscriptionId.toLowerCase() === sub).map((a) => a.name.toLowerCase()));
    await checks.run(`abac:${sub}`, `No blob access outside the audit accounts in ${subscriptionName(ctx, sub)}`, async () => {
      const other = (await listStorageAccounts(ctx.arm, sub)).find((a) => !ours.has(a.name.toLowerCase()) && a.blobEndpoint);
      if (!other?.blobEndpoint) return { status: "skipped", reason: "Not tested: no other storage account in this subscription." };
      const probe = await listKubeAuditBlobs(credential, other.blobEndpoint);
      if (probe.kind === "denied")
        return {
          status: "pass",
          reason: `Storage refused the app in ${other.name} (${probe.azureCode}): the condition on Storage Blob Data Reader works.`,
        };
      return {
        status: "fail",
        reason: `The app can list blobs in ${other.name}, which isn't an audit account: its Storage Blob Data Reader isn't limited by the condition. Re-apply Role assignments, and check for other role assignments of the app in this subscription.`,
      };
    });
  }
}

async function logAnalyticsChecks(ctx: StepContext, credential: TokenCredential, checks: Checks): Promise<void> {
  for (const s of ctx.config.subscriptions) {
    await checks.run(`log-analytics:${s.id}`, `Log Analytics query in ${s.displayName}`, async () => {
      const workspace = (await listLogAnalyticsWorkspaces(ctx.arm, s.id))[0];
      if (!workspace) return { status: "skipped", reason: "Not tested: no Log Analytics workspace in this subscription." };
      const r = await queryLogAnalytics(credential, workspace.customerId, LOG_ANALYTICS_QUERY);
      if (r.kind === "denied") {
        return {
          status: "fail",
          reason: `The query on ${workspace.name} was refused (${r.azureCode}). The app needs the portal's Log Analytics query role on the subscription (Role assignments) and admin consent for the Log Analytics API's Data.Read (App registration).`,
        };
      }
      return { status: "pass", reason: `A query on ${workspace.name} returned ${r.rows} row${r.rows === 1 ? "" : "s"}.` };
    });
  }
}

function subscriptionName(ctx: StepContext, id: string): string {
  return ctx.config.subscriptions.find((s) => s.id.toLowerCase() === id.toLowerCase())?.displayName ?? id;
}

async function apply(ctx: StepContext, live: VerificationLive): Promise<VerificationOutput> {
  const app = live.app;
  if (!app)
    throw new AzureOperationError(
      "not_found",
      "The app registration has no output yet, so there is nothing to verify. Run App registration first.",
    );
  await ctx.progress({ done: 0, total: 1, label: "Signing in as the app" });
  const stored = await ctx.secrets.get(CLIENT_SECRET_KIND);
  const useStored = stored !== null && stored.expiresAt.getTime() > Date.now();
  const checks = new Checks();
  let signedIn = false;
  if (useStored) {
    signedIn = await runChecks(ctx, app.appId, stored.value, checks);
  } else {
    // The run's secret was handed off and deleted: a one-hour secret for this verification only, removed right after.
    const temp = await ctx.write(
      {
        key: verificationKeys.secret(app.applicationObjectId),
        kind: "create",
        target: `client secret "${VERIFICATION_SECRET_NAME}" of app ${app.appId}`,
      },
      () => addVerificationPassword(ctx.graph, app.applicationObjectId),
      (p) => `${app.applicationObjectId}/passwordCredentials/${p.keyId}`,
    );
    try {
      signedIn = await runChecks(ctx, app.appId, temp.secretText, checks);
    } finally {
      await ctx.write(
        {
          key: verificationKeys.secretRemove(temp.keyId),
          kind: "delete",
          target: `client secret "${VERIFICATION_SECRET_NAME}" of app ${app.appId}`,
        },
        () => removeApplicationPassword(ctx.graph, app.applicationObjectId, temp.keyId),
      );
    }
  }
  // Workbench has the secret now; the portal kept it only for this first verification. (Manual mode: the reveal owns it.)
  if (useStored && signedIn && live.handoffMode === "api") await ctx.secrets.delete(CLIENT_SECRET_KIND);
  await ctx.progress({ done: 1, total: 1, label: "Verification done" });
  const output: VerificationOutput = {
    ranAt: new Date().toISOString(),
    credential: useStored ? "run-secret" : "verification-secret",
    checks: checks.list,
  };
  const failed = failureMessage(output.checks);
  if (failed) throw new VerificationFailedError(failed, output);
  return output;
}

async function verify(_ctx: StepContext, out: VerificationOutput): Promise<VerifyResult> {
  const failed = failureMessage(out.checks);
  if (failed) return { ok: false, reason: failed };
  return { ok: true, checks: out.checks.filter((c) => c.status === "pass").map((c) => c.label) };
}

/** Signs in as the app and checks clusters, audit blobs, the scope of its access and Log Analytics; writes only a temporary secret. */
export const verificationStep: StepModule<VerificationLive, VerificationOutput> = {
  id: "verification",
  read,
  plan: () => [],
  apply,
  verify,
};
