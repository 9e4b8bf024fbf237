// Executes a client-secret rotation while holding its lease: create the new secret, prove it works, hand it to the
// vendor, then remove the old one and prove it is gone. Each phase reads Azure first, so a resumed rotation continues
// where it stopped instead of creating another secret.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { addApplicationPassword } from "@/lib/azure/add-application-password";
import { acquireFirstToken, appCredential, type WaitOptions } from "@/lib/azure/app-credential";
import { AzureOperationError, toAzureError } from "@/lib/azure/errors";
import { formatSeconds } from "@/lib/azure/timeouts";
import { getApplicationDetails, type ApplicationDetails } from "@/lib/azure/get-application-details";
import { listManagedClusters } from "@/lib/azure/list-managed-clusters";
import { listWorkbenchDevices } from "@/lib/workbench/list-devices";
import { removeApplicationPassword } from "@/lib/azure/remove-application-password";
import { updateWorkbenchDeviceCredential } from "@/lib/workbench/update-device-credential";
import { workbenchConfig } from "@/lib/workbench/client";
import { encryptionKey } from "@/lib/auth/keys";
import { decrypt, encrypt } from "@/lib/crypto";
import { recordAuditEvent } from "@/lib/db/audit";
import { LeaseLostError, ROTATION_STEP_ID } from "@/lib/db/leases";
import { advanceRotation, releaseRotation, type CredentialRotation, type RotationError, type RotationPhase } from "@/lib/db/rotations";
import { deleteRunSecret, getRunSecret, putRunSecret } from "@/lib/db/run-secrets";
import { secretAad, type Actor } from "@/lib/engine/context";
import type { Heartbeat } from "@/lib/engine/heartbeat";
import { runJob, type JobEnd } from "@/lib/engine/job";
import { classifyFailure, DEFAULT_POLICY, sleep as realSleep, withRetries, type EnginePolicy } from "@/lib/engine/policy";
import { writeAhead, type WriteAhead } from "@/lib/engine/write-ahead";
import { credentialFor, type TokenUnavailableError, type TokenProvider } from "@/lib/auth/tokens";
import { env } from "@/lib/env";
import { CLIENT_SECRET_KIND, runCredentialName } from "@/lib/steps/app-registration";
import type { RunConfig } from "@/lib/steps/config";
import { workbenchDeviceName } from "@/lib/steps/workbench-handoff";
import { ShutdownError } from "@/lib/engine/shutdown";

/** run_secrets kind of the new secret between its creation and its hand-off. */
export const ROTATION_SECRET_KIND = "rotation_secret";
// Same kinds as lib/onboarding/manual-handoff.ts: a rotation in manual mode restarts its reveal-once flow.
const SECRET_REVEALED_KIND = "client_secret_revealed";
const HANDOFF_ACKNOWLEDGED_KIND = "handoff_acknowledged";

/** The engine's policy, and how long to wait for Entra to accept the new secret (AADSTS7000215 while it replicates). */
export interface RotationPolicy extends Partial<EnginePolicy> {
  signIn?: WaitOptions;
}

/** `given` over the production values: leases as long as step leases, transient waits up to 16 s, the engine's budgets otherwise. */
export function rotationPolicy(given: RotationPolicy = {}): EnginePolicy & RotationPolicy {
  return {
    ...DEFAULT_POLICY,
    leaseTtlMs: env().STEP_LEASE_TTL_SECONDS * 1000,
    transientMaxDelayMs: 16_000,
    stallMs: env().STEP_STALL_SECONDS * 1000,
    ...given,
  };
}

/** Everything an execution needs; the caller already holds the rotation's lease as `owner`. */
export interface RotationExecution {
  rotation: CredentialRotation;
  owner: string;
  tenantId: string;
  actor: Actor;
  config: RunConfig;
  /** The vendor app's client id (the app registration step's output). */
  appId: string;
  tokens: TokenProvider;
  policy: RotationPolicy;
  /** Test seam: return after completing this phase without releasing the lease, as if the server died there. */
  crashAfter?: RotationPhase;
  sleep?: (ms: number) => Promise<void>;
}

/** How an execution ended. */
export type RotationOutcome =
  | { status: "done" }
  | { status: "waiting_ack" }
  | { status: "failed"; error: RotationError }
  | { status: "lease_lost" }
  | { status: "crashed" };

const ACTION = "rotate the vendor app's client secret";
const WHO = "an owner of the app, Application Administrator or Cloud Application Administrator";

class RotationStop extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "RotationStop";
  }
}

/** Runs the rotation from its last completed phase until done, waiting for an acknowledgement, failed or lease lost. */
export async function executeRotation(input: RotationExecution): Promise<RotationOutcome> {
  const { rotation, owner } = input;
  const runId = rotation.runId;
  const policy = rotationPolicy(input.policy);
  const sleep = input.sleep ?? realSleep;
  let tokenFailure: TokenUnavailableError | undefined;
  let newKeyId = rotation.new?.keyId ?? null;
  const graph = credentialFor(input.tokens, "graph", (e) => {
    tokenFailure = e;
  });
  const stalled: RotationError = {
    code: "interrupted",
    message: `The rotation made no progress for ${formatSeconds(policy.stallMs)} (Microsoft Entra ID or the portal's database stopped answering), so the portal stopped it. Rotate again to continue where it stopped.`,
  };

  // The caller took the lease (starting or resuming the rotation) before answering the admin.
  const job = await runJob<"done" | "waiting_ack" | "crashed" | RotationError>({
    lease: { kind: "rotation", runId },
    owner,
    ttlMs: policy.leaseTtlMs,
    stallMs: policy.stallMs,
    held: true,
    async work(job) {
      const state: PhaseState = {
        ...input,
        graph,
        phase: rotation.phase,
        newKeyId,
        handedOffAt: rotation.handedOffAt,
        heartbeat: job.heartbeat,
        createdAt: undefined,
        write: writeAhead({
          lease: job.lease,
          owner,
          tenantId: input.tenantId,
          actor: input.actor,
          touch: () => job.heartbeat.touch(),
          live: job.live,
          failureOf: (error) => toAzureError(error, { action: ACTION, requiredRole: WHO }),
        }),
      };
      const classify = (error: unknown) => {
        if (!job.live()) return { kind: "lease_lost" } as const;
        if (error instanceof RotationStop)
          return { kind: "permanent", status: "failed", error: { code: error.code, message: error.message } } as const;
        const c = classifyFailure(error, {
          action: ACTION,
          ...(tokenFailure ? { tokenFailure } : {}),
          createdRecently: state.createdAt !== undefined && Date.now() - state.createdAt < policy.replicationBudgetMs,
        });
        tokenFailure = undefined;
        return c;
      };
      try {
        const result = await withRetries(() => runPhases(state), {
          policy,
          classify,
          // A retry wait is the engine's own doing, not a stall.
          sleep: async (ms) => {
            job.heartbeat.touch();
            await sleep(ms);
            job.heartbeat.touch();
          },
        });
        newKeyId = state.newKeyId;
        return result;
      } catch (error) {
        const c = classify(error);
        if (c.kind === "lease_lost") throw new LeaseLostError(runId, ROTATION_STEP_ID);
        return { code: c.error.code, message: c.error.message };
      }
    },
    release(end) {
      const outcome = rotationOutcome(end, stalled);
      // The crash seam leaves the lease in place, as a server that died there would.
      if (outcome.status === "crashed" || outcome.status === "lease_lost") return Promise.resolve(false);
      return releaseRotation(
        runId,
        owner,
        outcome.status === "failed" ? { status: "failed", error: outcome.error } : { status: outcome.status },
      );
    },
  });
  if (job.kind === "busy") return { status: "lease_lost" };
  const outcome = rotationOutcome(job.end, stalled);
  if (outcome.status === "crashed" || outcome.status === "lease_lost") return outcome;
  if (!job.released) return { status: "lease_lost" };
  if (outcome.status === "waiting_ack") await audit(input, "credential.rotation_awaiting_handoff", "success", {});
  else if (outcome.status === "done")
    await audit(input, "credential.rotated", "success", { newKeyId: newKeyId ?? "", oldKeyId: rotation.old?.keyId ?? "" });
  else await audit(input, "credential.rotation_failed", "failure", { code: outcome.error.code });
  return outcome;
}

function rotationOutcome(end: JobEnd<"done" | "waiting_ack" | "crashed" | RotationError>, stalled: RotationError): RotationOutcome {
  switch (end.kind) {
    case "finished":
      return typeof end.value === "string" ? { status: end.value } : { status: "failed", error: end.value };
    case "stalled":
      return { status: "failed", error: stalled };
    case "lease_lost":
      return { status: "lease_lost" };
    case "crashed": {
      if (end.error instanceof ShutdownError)
        return {
          status: "failed",
          error: {
            code: "interrupted",
            message:
              "The portal server restarted during the rotation, which stopped before its next change. Rotate again to continue where it stopped.",
          },
        };
      const azure = toAzureError(end.error, { action: ACTION });
      return { status: "failed", error: { code: azure.code, message: azure.message } };
    }
  }
}

interface PhaseState extends RotationExecution {
  graph: TokenCredential;
  phase: RotationPhase;
  newKeyId: string | null;
  handedOffAt: Date | null;
  heartbeat: Heartbeat;
  createdAt: number | undefined;
  write: WriteAhead;
}

async function runPhases(s: PhaseState): Promise<"done" | "waiting_ack" | "crashed"> {
  const runId = s.rotation.runId;
  const next = async (phase: RotationPhase, update: Parameters<typeof advanceRotation>[2] = { phase }) => {
    if (!(await advanceRotation(runId, s.owner, { ...update, phase }))) throw new LeaseLostError(runId, ROTATION_STEP_ID);
    s.heartbeat.touch();
    s.phase = phase;
    return s.crashAfter === phase;
  };

  if (s.phase === "started") {
    const created = await createNewSecret(s);
    s.newKeyId = created.keyId;
    if (await next("created", { phase: "created", new: created })) return "crashed";
  }
  if (s.phase === "created") {
    await verifyNewSecret(s);
    if (await next("verified")) return "crashed";
  }
  if (s.phase === "verified") {
    const handedOffAt = await handOff(s);
    s.handedOffAt = handedOffAt;
    if (await next("handed_off", { phase: "handed_off", handedOffAt })) return "crashed";
  }
  if (s.phase === "handed_off") {
    // Manual mode: the old secret stays until the admin confirms the vendor has the new one.
    if (s.rotation.mode === "manual" && !(await getRunSecret(runId, HANDOFF_ACKNOWLEDGED_KIND))) return "waiting_ack";
    await removeOldSecret(s);
    if (await next("old_removed")) return "crashed";
  }
  return "done";
}

/** Phase 1: the new secret, or the one an interrupted attempt created and sealed. Never a third. */
async function createNewSecret(s: PhaseState): Promise<{ keyId: string; hint: string; expiresAt: Date }> {
  const runId = s.rotation.runId;
  const app = await readApp(s);
  const sealed = await getRunSecret(runId, ROTATION_SECRET_KIND);
  if (sealed && app.passwordCredentials.some((c) => same(c.keyId, sealed.keyId))) {
    // Created (and sealed) before a crash: continue with it.
    return { keyId: sealed.keyId, hint: sealed.hint, expiresAt: sealed.expiresAt };
  }
  // A secret of this run that is neither the old one nor sealed is from an attempt that died between Graph's answer and
  // the seal: its value is lost, so it can never be handed off. Remove it before creating the replacement.
  const oldKeyId = s.rotation.old?.keyId ?? null;
  // Without a known old key nothing can be told apart safely, so nothing is removed.
  const orphans =
    oldKeyId === null ? [] : app.passwordCredentials.filter((c) => c.displayName === runCredentialName(runId) && !same(c.keyId, oldKeyId));
  for (const orphan of orphans) {
    await s.write(
      {
        key: `rotation.${s.rotation.rotationId}.remove-orphan:${orphan.keyId}`,
        kind: "delete",
        target: `Unusable client secret ${orphan.keyId} of ${s.config.vendor.appUniqueName}`,
      },
      () => removeApplicationPassword(s.graph, app.id, orphan.keyId),
    );
  }
  const created = await s.write(
    { key: `rotation.${s.rotation.rotationId}.create-secret`, kind: "create", target: `Client secret ${runCredentialName(runId)}` },
    async () => {
      const password = await addApplicationPassword(s.graph, app.id, {
        displayName: runCredentialName(runId),
        lifetimeDays: s.config.options.secretLifetimeDays,
      });
      const meta = { keyId: password.keyId, hint: password.hint, expiresAt: new Date(password.endDateTime) };
      // Sealed before anything else happens: from here a crash loses nothing.
      await putRunSecret({
        runId,
        kind: ROTATION_SECRET_KIND,
        ciphertext: encrypt(password.secretText, encryptionKey(), secretAad(runId, ROTATION_SECRET_KIND)),
        ...meta,
      });
      return meta;
    },
    (m) => m.keyId,
  );
  s.createdAt = Date.now();
  return created;
}

/** Phase 2: sign in as the app with the new secret (waiting out Entra's replication) and read the selected clusters. */
async function verifyNewSecret(s: PhaseState): Promise<void> {
  const secret = await sealedNewSecret(s);
  const credential = appCredential({ tenantId: s.tenantId, clientId: s.appId, secret });
  const first = await acquireFirstToken(credential, `${env().ARM_AUDIENCE}/.default`, s.policy.signIn);
  if (!first.ok) throw new RotationStop(`sign_in_${first.failure}`, first.message);
  const seen = new Set<string>();
  for (const subscription of s.config.subscriptions) {
    let clusters: Awaited<ReturnType<typeof listManagedClusters>>;
    try {
      clusters = await listManagedClusters(credential, subscription.id);
    } catch (error) {
      // It is the app that was refused, not the admin: say so instead of asking the admin for a role.
      if (
        error instanceof AzureOperationError &&
        (error.code === "forbidden" || error.code === "not_found" || error.code === "reauth_required")
      ) {
        throw new RotationStop(
          "verify_failed",
          `The new secret signs in, but the app can't list the AKS clusters of ${subscription.displayName}. Check the run's role assignments (an Owner or User Access Administrator of the subscription can fix them), then continue the rotation.`,
        );
      }
      throw error;
    }
    for (const c of clusters) seen.add(c.id.toLowerCase());
  }
  const missing = s.config.clusters.filter((c) => !seen.has(c.id.toLowerCase()));
  if (missing.length > 0) {
    throw new RotationStop(
      "verify_failed",
      `The new secret signs in, but the app can't read ${missing.map((c) => c.name).join(", ")}. Check the run's role assignments (an Owner or User Access Administrator of the subscription can fix them), then retry the rotation.`,
    );
  }
}

/** Phase 3: Workbench gets the new secret (server to server), or the manual hand-off panel offers it once. */
async function handOff(s: PhaseState): Promise<Date> {
  const runId = s.rotation.runId;
  const sealed = await getRunSecret(runId, ROTATION_SECRET_KIND);
  if (s.rotation.mode === "manual") {
    if (sealed) {
      const value = await sealedNewSecret(s);
      await putRunSecret({
        runId,
        kind: CLIENT_SECRET_KIND,
        ciphertext: encrypt(value, encryptionKey(), secretAad(runId, CLIENT_SECRET_KIND)),
        keyId: sealed.keyId,
        hint: sealed.hint,
        expiresAt: sealed.expiresAt,
      });
      // The previous reveal and acknowledgement were for the old secret: the new one gets its own, once.
      await deleteRunSecret(runId, SECRET_REVEALED_KIND);
      await deleteRunSecret(runId, HANDOFF_ACKNOWLEDGED_KIND);
      await deleteRunSecret(runId, ROTATION_SECRET_KIND);
    }
    return new Date();
  }
  const config = workbenchConfig();
  if (!config)
    throw new RotationStop(
      "workbench_not_configured",
      "This run handed off to Workbench, but the portal's Workbench API is no longer configured. The portal's operator must set WORKBENCH_URL and WORKBENCH_API_KEY.",
    );
  const name = workbenchDeviceName(runId);
  const device = (await listWorkbenchDevices(config)).find((d) => d.name === name);
  if (!device)
    throw new RotationStop(
      "workbench_device_missing",
      `Workbench has no device ${name} for this run, so it can't receive the new secret. Ask the vendor to check the device; the old secret stays until then.`,
    );
  if (sealed) {
    const value = await sealedNewSecret(s);
    await s.write(
      { key: `rotation.${s.rotation.rotationId}.workbench-credential`, kind: "update", target: `Workbench device ${name}` },
      () => updateWorkbenchDeviceCredential(config, device.id, { tenantId: s.tenantId, clientId: s.appId, clientSecret: value }),
      (d) => d.id,
    );
    await deleteRunSecret(runId, ROTATION_SECRET_KIND);
  }
  return new Date();
}

/** Phase 4: the old secret goes, and a fresh read proves it is gone while the new one stays. */
async function removeOldSecret(s: PhaseState): Promise<void> {
  const oldKeyId = s.rotation.old?.keyId ?? null;
  const app = await readApp(s);
  if (oldKeyId && app.passwordCredentials.some((c) => same(c.keyId, oldKeyId))) {
    await s.write(
      {
        key: `rotation.${s.rotation.rotationId}.remove-secret:${oldKeyId}`,
        kind: "delete",
        target: `Client secret ${oldKeyId} of ${s.config.vendor.appUniqueName}`,
      },
      () => removeApplicationPassword(s.graph, app.id, oldKeyId),
    );
  }
  const after = await readApp(s);
  if (oldKeyId && after.passwordCredentials.some((c) => same(c.keyId, oldKeyId))) {
    throw new AzureOperationError("unavailable", "Entra ID still lists the old client secret after removing it. Retry in a moment.");
  }
  if (!s.newKeyId || !after.passwordCredentials.some((c) => same(c.keyId, s.newKeyId ?? ""))) {
    throw new RotationStop(
      "new_secret_missing",
      "The new client secret is no longer on the app registration. Someone removed it in Entra ID; rotate again.",
    );
  }
}

async function readApp(s: PhaseState): Promise<ApplicationDetails> {
  const app = await getApplicationDetails(s.graph, s.config.vendor.appUniqueName);
  if (!app || !same(app.appId, s.appId)) {
    throw new RotationStop(
      "app_missing",
      `The app registration ${s.config.vendor.appUniqueName} no longer exists in Entra ID, so its secret can't be rotated. Run a new onboarding.`,
    );
  }
  return app;
}

async function sealedNewSecret(s: PhaseState): Promise<string> {
  const runId = s.rotation.runId;
  const sealed = await getRunSecret(runId, ROTATION_SECRET_KIND);
  if (!sealed) throw new RotationStop("secret_missing", "The portal no longer holds the new secret. Start the rotation again.");
  try {
    return decrypt(sealed.ciphertext, encryptionKey(), secretAad(runId, ROTATION_SECRET_KIND));
  } catch {
    throw new RotationStop(
      "undecryptable",
      "The new secret can't be decrypted (the portal's encryption key changed). Start the rotation again.",
    );
  }
}

async function audit(
  input: RotationExecution,
  action: string,
  outcome: "success" | "failure",
  detail: Record<string, string>,
): Promise<void> {
  const runId = input.rotation.runId;
  await recordAuditEvent({
    tenantId: input.tenantId,
    runId,
    actorUserId: input.actor.userId,
    actorUpn: input.actor.upn,
    action,
    target: runId,
    outcome,
    detail: { runId, rotationId: input.rotation.rotationId, ...detail },
  });
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
