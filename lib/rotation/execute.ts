// Executes a client-secret rotation while holding its lease: create the new secret, prove it works, hand it to the
// vendor, then remove the old one and prove it is gone. Each phase reads Azure first, so a resumed rotation continues
// where it stopped instead of creating another secret.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { addApplicationPassword } from "@/lib/azure/add-application-password";
import { acquireFirstToken, appCredential, type WaitOptions } from "@/lib/azure/app-credential";
import { AzureOperationError, toAzureError } from "@/lib/azure/errors";
import { formatSeconds, withOutboundScope } from "@/lib/azure/timeouts";
import { getApplicationDetails, type ApplicationDetails } from "@/lib/azure/get-application-details";
import { listManagedClusters } from "@/lib/azure/list-managed-clusters";
import { listWorkbenchDevices } from "@/lib/azure/list-workbench-devices";
import { removeApplicationPassword } from "@/lib/azure/remove-application-password";
import { updateWorkbenchDeviceCredential } from "@/lib/azure/update-workbench-device-credential";
import { workbenchConfig } from "@/lib/azure/workbench-client";
import { encryptionKey } from "@/lib/auth/keys";
import { decrypt, encrypt } from "@/lib/crypto";
import { recordAuditEvent } from "@/lib/db/audit";
import { LeaseLostError } from "@/lib/db/step-runs";
import { recordOutcome, type OperationKind } from "@/lib/db/operations";
import {
  advanceRotation,
  recordRotationIntent,
  releaseRotation,
  renewRotationLease,
  type CredentialRotation,
  type RotationError,
  type RotationPhase,
} from "@/lib/db/rotations";
import { deleteRunSecret, getRunSecret, putRunSecret } from "@/lib/db/run-secrets";
import { secretAad, type Actor } from "@/lib/engine/context";
import { backoffMs, classifyFailure, DEFAULT_POLICY } from "@/lib/engine/policy";
import { startLeaseHeartbeat, unlessStalled, type Heartbeat } from "@/lib/engine/heartbeat";
import { credentialFor, type TokenUnavailableError, type TokenProvider } from "@/lib/engine/tokens";
import { env } from "@/lib/env";
import { CLIENT_SECRET_KIND, runCredentialName } from "@/lib/steps/app-registration";
import type { RunConfig } from "@/lib/steps/config";
import { workbenchDeviceName } from "@/lib/steps/workbench-handoff";

/** run_secrets kind of the new secret between its creation and its hand-off. */
export const ROTATION_SECRET_KIND = "rotation_secret";
/** The write-ahead log's step id for rotation writes. */
export const ROTATION_STEP_ID = "credential-rotation";
// Same kinds as lib/onboarding/manual-handoff.ts: a rotation in manual mode restarts its reveal-once flow.
const SECRET_REVEALED_KIND = "client_secret_revealed";
const HANDOFF_ACKNOWLEDGED_KIND = "handoff_acknowledged";

/** Tunables; tests shorten them. */
export interface RotationPolicy {
  leaseTtlMs: number;
  /** Tries on throttling, 5xx and replication errors, including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** How long to wait for Entra to accept the new secret (AADSTS7000215 while it replicates). */
  signIn?: WaitOptions;
  /** No progress (a write, a phase, an answer from Graph or Entra) for this long stops the rotation; STEP_STALL_SECONDS by default. */
  stallMs?: number;
}

/** Production values: leases as long as step leases, 5 tries 1→16 s, 150 s for the new secret to replicate. */
export function defaultRotationPolicy(): RotationPolicy {
  return {
    leaseTtlMs: env().STEP_LEASE_TTL_SECONDS * 1000,
    attempts: 5,
    baseDelayMs: DEFAULT_POLICY.transientBaseDelayMs,
    maxDelayMs: 16_000,
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
  const { rotation, owner, policy } = input;
  const sleep = input.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const stallMs = policy.stallMs ?? env().STEP_STALL_SECONDS * 1000;
  const heartbeat = startLeaseHeartbeat(() => renewRotationLease(rotation.runId, owner, policy.leaseTtlMs), policy.leaseTtlMs, { stallMs });
  let tokenFailure: TokenUnavailableError | undefined;
  const onTokenFailure = (e: TokenUnavailableError) => {
    tokenFailure = e;
  };
  const graph = credentialFor(input.tokens, "graph", onTokenFailure);
  const state: PhaseState = {
    ...input,
    graph,
    phase: rotation.phase,
    newKeyId: rotation.new?.keyId ?? null,
    handedOffAt: rotation.handedOffAt,
    heartbeat,
    createdAt: undefined,
  };
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        // A stall cuts off the calls in flight and stops waiting for the rest: the rotation fails, resumable.
        const result = await unlessStalled(
          heartbeat,
          withOutboundScope({ signal: heartbeat.signal, onAnswer: () => heartbeat.touch() }, () => runPhases(state)),
        );
        if (result === "crashed") return { status: "crashed" };
        if (result === "waiting_ack") {
          await heartbeat.stop();
          if (!(await releaseRotation(rotation.runId, owner, { status: "waiting_ack" }))) return { status: "lease_lost" };
          await audit(input, "credential.rotation_awaiting_handoff", "success", {});
          return { status: "waiting_ack" };
        }
        await heartbeat.stop();
        if (!(await releaseRotation(rotation.runId, owner, { status: "done" }))) return { status: "lease_lost" };
        await audit(input, "credential.rotated", "success", { newKeyId: state.newKeyId ?? "", oldKeyId: rotation.old?.keyId ?? "" });
        return { status: "done" };
      } catch (error) {
        if (heartbeat.stalled) {
          return await fail(input, heartbeat, {
            code: "interrupted",
            message: `The rotation made no progress for ${formatSeconds(stallMs)} (Microsoft Entra ID or the portal's database stopped answering), so the portal stopped it. Rotate again to continue where it stopped.`,
          });
        }
        if (error instanceof RotationStop) return await fail(input, heartbeat, { code: error.code, message: error.message });
        const classified = classifyFailure(error, {
          action: ACTION,
          tokenFailure,
          createdRecently: state.createdAt !== undefined && Date.now() - state.createdAt < 120_000,
        });
        tokenFailure = undefined;
        if (classified.kind === "lease_lost") return { status: "lease_lost" };
        if ((classified.kind === "transient" || classified.kind === "replication") && attempt < policy.attempts && !heartbeat.lost) {
          const wait =
            classified.kind === "transient" && classified.retryAfterMs !== undefined
              ? classified.retryAfterMs
              : backoffMs(attempt, policy.baseDelayMs, policy.maxDelayMs);
          heartbeat.touch();
          await sleep(Math.min(wait, policy.maxDelayMs));
          heartbeat.touch();
          continue;
        }
        return await fail(input, heartbeat, { code: classified.error.code, message: classified.error.message });
      }
    }
  } finally {
    await heartbeat.stop();
  }
}

interface PhaseState extends RotationExecution {
  graph: TokenCredential;
  phase: RotationPhase;
  newKeyId: string | null;
  handedOffAt: Date | null;
  heartbeat: Heartbeat;
  createdAt: number | undefined;
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
    await write(
      s,
      {
        key: `rotation.${s.rotation.rotationId}.remove-orphan:${orphan.keyId}`,
        kind: "delete",
        target: `Unusable client secret ${orphan.keyId} of ${s.config.vendor.appUniqueName}`,
      },
      () => removeApplicationPassword(s.graph, app.id, orphan.keyId),
    );
  }
  const created = await write(
    s,
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
    await write(
      s,
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
    await write(
      s,
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

/** One remote write: intent logged (only while the lease is held), then the outcome and an audit event. */
async function write<T>(
  s: PhaseState,
  op: { key: string; kind: OperationKind; target: string },
  run: () => Promise<T>,
  resourceIdOf?: (result: T) => string,
): Promise<T> {
  const runId = s.rotation.runId;
  if (s.heartbeat.lost || s.heartbeat.stalled) throw new LeaseLostError(runId, ROTATION_STEP_ID);
  s.heartbeat.touch();
  const intentId = await recordRotationIntent({
    runId,
    owner: s.owner,
    key: op.key,
    kind: op.kind,
    target: op.target,
    actorUpn: s.actor.upn,
  });
  if (intentId === null) throw new LeaseLostError(runId, ROTATION_STEP_ID);
  const base = {
    tenantId: s.tenantId,
    runId,
    actorUserId: s.actor.userId,
    actorUpn: s.actor.upn,
    action: "azure.write",
    target: op.target,
  };
  let result: T;
  try {
    result = await run();
  } catch (error) {
    const azure = toAzureError(error, { action: ACTION, requiredRole: WHO });
    await recordOutcome(intentId, {
      status: "failed",
      errorCode: azure.code,
      errorMessage: azure.message,
      requestId: azure.requestId ?? null,
    });
    await recordAuditEvent({
      ...base,
      outcome: azure.code === "forbidden" ? "denied" : "failure",
      detail: { runId, stepId: ROTATION_STEP_ID, key: op.key, kind: op.kind, errorCode: azure.code, requestId: azure.requestId ?? null },
    });
    throw error;
  }
  s.heartbeat.touch();
  let resourceId: string | null = null;
  try {
    resourceId = resourceIdOf?.(result) ?? null;
  } catch {
    resourceId = null;
  }
  await recordOutcome(intentId, { status: "succeeded", resourceId });
  await recordAuditEvent({
    ...base,
    outcome: "success",
    detail: { runId, stepId: ROTATION_STEP_ID, key: op.key, kind: op.kind, resourceId },
  });
  return result;
}

async function fail(input: RotationExecution, heartbeat: Heartbeat, error: RotationError): Promise<RotationOutcome> {
  await heartbeat.stop();
  if (!(await releaseRotation(input.rotation.runId, input.owner, { status: "failed", error }))) return { status: "lease_lost" };
  await audit(input, "credential.rotation_failed", "failure", { code: error.code });
  return { status: "failed", error };
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
