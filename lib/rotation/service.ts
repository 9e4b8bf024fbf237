// The credential lifecycle of a finished run, for the signed-in tenant: the secret's expiry, and rotating it.
import "server-only";
import crypto from "node:crypto";
import { z } from "zod";
import { failure, type ActionResult } from "@/lib/action-result";
import { recordAuditEvent } from "@/lib/db/audit";
import {
  getRotation,
  listAppRegistrationOutputs,
  listRotations,
  resumeRotation,
  startRotation,
  type CredentialRotation,
  type SecretMeta,
} from "@/lib/db/rotations";
import type { SessionWithUser } from "@/lib/db/sessions";
import { getRunSecret } from "@/lib/db/run-secrets";
import { sessionTokens, type TokenProvider } from "@/lib/auth/tokens";
import { runViewFor, type RunView } from "@/lib/onboarding/run-control";
import { maskId } from "@/lib/presenter";
import { executeRotation, rotationPolicy, type RotationOutcome, type RotationPolicy } from "./execute";
import { expiryStatus, type ExpiryLevel } from "./expiry";

const appOutputSchema = z.object({
  appId: z.string().min(1),
  secret: z.object({ keyId: z.string(), hint: z.string(), expiresAt: z.string() }).nullable().optional(),
});
const handoffOutputSchema = z.object({ mode: z.enum(["api", "manual"]) });

/** What the run page shows about the vendor's client secret. Never its value; ids masked in presenter mode. */
export interface CredentialStatusView {
  /** The secret in use: keyId (masked in presenter mode) and hint (empty in presenter mode). */
  keyId: string;
  hint: string;
  expiresAt: Date | null;
  level: ExpiryLevel;
  daysLeft: number | null;
  /** Days a rotated secret lives (the run's configured lifetime). */
  lifetimeDays: number;
  mode: "api" | "manual";
  rotation: {
    status: CredentialRotation["status"];
    phase: CredentialRotation["phase"];
    /** A holder is working on it right now (lease live). */
    active: boolean;
    error: string | null;
    startedByUpn: string;
    finishedAt: Date | null;
    /** Manual mode: the admin has acknowledged the hand-off of the new secret. */
    acknowledged: boolean;
  } | null;
}

/** The secret currently in use: the last finished rotation's new one, else the one the run created. */
function currentSecret(rotation: CredentialRotation | null, appOutput: z.infer<typeof appOutputSchema>): SecretMeta | null {
  if (rotation?.status === "done" && rotation.new) return rotation.new;
  if (rotation?.old) return rotation.old;
  const s = appOutput.secret;
  if (!s) return null;
  const expiresAt = new Date(s.expiresAt);
  return { keyId: s.keyId, hint: s.hint, expiresAt: Number.isNaN(expiresAt.getTime()) ? null : expiresAt };
}

interface FinishedRun {
  runId: string;
  tenantId: string;
  config: RunView["config"];
  appOutput: z.infer<typeof appOutputSchema>;
  mode: "api" | "manual";
}

// A completed run with its app registration's and hand-off's outputs; null otherwise (or another tenant's run).
async function finishedRun(session: SessionWithUser, runId: string, given?: RunView | null): Promise<FinishedRun | null> {
  const view = await runViewFor(session, runId, given);
  if (!view || view.run.status !== "completed") return null;
  const step = (id: string) => view.run.steps.find((s) => s.stepId === id && s.status === "done");
  const app = appOutputSchema.safeParse(step("app-registration")?.outputs);
  const handoff = handoffOutputSchema.safeParse(step("workbench-handoff")?.outputs);
  if (!app.success || !handoff.success) return null;
  return { runId, tenantId: view.run.tenantId, config: view.config, appOutput: app.data, mode: handoff.data.mode };
}

/** The credential panel of a completed run of the session's tenant; null for other runs. */
export async function getCredentialStatus(
  session: SessionWithUser,
  runId: string,
  { presenter = false, now = new Date(), view }: { presenter?: boolean; now?: Date; view?: RunView | null } = {},
): Promise<CredentialStatusView | null> {
  const run = await finishedRun(session, runId, view);
  if (!run) return null;
  const rotation = await getRotation(runId);
  const secret = currentSecret(rotation, run.appOutput);
  const expiry = expiryStatus(secret?.expiresAt ?? null, now);
  const acknowledged = rotation?.status === "waiting_ack" ? (await getRunSecret(runId, "handoff_acknowledged")) !== null : false;
  return {
    keyId: secret ? (presenter ? maskId(secret.keyId) : secret.keyId) : "",
    hint: presenter ? "" : (secret?.hint ?? ""),
    expiresAt: secret?.expiresAt ?? null,
    level: expiry.level,
    daysLeft: expiry.daysLeft,
    lifetimeDays: run.config.options.secretLifetimeDays,
    mode: run.mode,
    rotation: rotation
      ? {
          status: rotation.status,
          phase: rotation.phase,
          active: rotation.status === "running" && rotation.leaseExpiresAt !== null && rotation.leaseExpiresAt > now,
          error: rotation.error?.message ?? null,
          startedByUpn: rotation.startedByUpn,
          finishedAt: rotation.finishedAt,
          acknowledged,
        }
      : null,
  };
}

/** Expiry levels of the secrets of these runs (same tenant list as the caller shows), for badges. */
export async function credentialLevels(runIds: readonly string[], now: Date = new Date()): Promise<Map<string, ExpiryLevel>> {
  const [outputs, rotations] = await Promise.all([listAppRegistrationOutputs(runIds), listRotations(runIds)]);
  const levels = new Map<string, ExpiryLevel>();
  for (const [runId, output] of outputs) {
    const app = appOutputSchema.safeParse(output);
    if (!app.success) continue;
    const secret = currentSecret(rotations.get(runId) ?? null, app.data);
    levels.set(runId, expiryStatus(secret?.expiresAt ?? null, now).level);
  }
  return levels;
}

/** Options of requestRotation; tests inject tokens and a short policy and wait for the outcome. */
export interface RotationRequestOptions {
  tokens?: TokenProvider;
  policy?: RotationPolicy;
  /** Await the execution (tests); by default it runs in the background and the page polls. */
  wait?: boolean;
  crashAfter?: Parameters<typeof executeRotation>[0]["crashAfter"];
}

/** The result of a rotation request: started (or resumed), and when awaited how it ended. */
export interface RotationStarted {
  rotationId: string;
  resumed: boolean;
  outcome?: RotationOutcome;
}

const NOT_AVAILABLE = "This run isn't complete, or it belongs to another tenant: there is no secret to rotate.";

/**
 * Start a rotation of the run's client secret, or continue an unfinished one (failed, interrupted, or waiting for the
 * manual hand-off's acknowledgement). One execution at a time: a second click or admin gets a conflict.
 */
export async function requestRotation(
  session: SessionWithUser,
  runId: string,
  options: RotationRequestOptions = {},
): Promise<ActionResult<RotationStarted>> {
  const run = await finishedRun(session, runId);
  if (!run) return failure(NOT_AVAILABLE, { code: "forbidden" });
  const policy = rotationPolicy(options.policy);
  const owner = `rotation:${crypto.randomUUID()}`;
  const existing = await getRotation(runId);
  let rotation: CredentialRotation | null;
  let resumed = false;
  if (existing && existing.status !== "done") {
    if (existing.status === "waiting_ack" && !(await getRunSecret(runId, "handoff_acknowledged"))) {
      return failure(
        "Reveal the new secret in the hand-off panel, give it to the vendor and confirm there first; the old secret is removed after that.",
        { code: "awaiting_ack" },
      );
    }
    rotation = await resumeRotation(runId, owner, policy.leaseTtlMs);
    resumed = true;
  } else {
    rotation = await startRotation({
      runId,
      rotationId: crypto.randomUUID(),
      mode: run.mode,
      old: currentSecret(existing, run.appOutput),
      startedByUpn: session.user.upn,
      owner,
      ttlMs: policy.leaseTtlMs,
    });
  }
  if (!rotation) {
    await audit(session, runId, "credential.rotation_requested", "denied", { reason: "in_progress" });
    return failure("Another admin is rotating this secret right now. Wait for it to finish.", { code: "conflict" });
  }
  await audit(session, runId, "credential.rotation_requested", "success", { rotationId: rotation.rotationId, resumed });
  const execution = executeRotation({
    rotation,
    owner,
    tenantId: run.tenantId,
    actor: { userId: session.user.id, upn: session.user.upn },
    config: run.config,
    appId: run.appOutput.appId,
    tokens: options.tokens ?? sessionTokens(session),
    policy,
    ...(options.crashAfter ? { crashAfter: options.crashAfter } : {}),
  });
  if (options.wait) return { ok: true, data: { rotationId: rotation.rotationId, resumed, outcome: await execution } };
  // Keeps going after the response (and if the browser closes); the page reads progress from the database.
  execution.catch(() => undefined);
  return { ok: true, data: { rotationId: rotation.rotationId, resumed } };
}

function audit(
  session: SessionWithUser,
  runId: string,
  action: string,
  outcome: "success" | "denied",
  detail: Record<string, string | boolean>,
) {
  return recordAuditEvent({
    tenantId: session.user.tenantId,
    actorUserId: session.user.id,
    actorUpn: session.user.upn,
    action,
    target: runId,
    runId,
    outcome,
    detail: { runId, ...detail },
  });
}
