// The manual hand-off of a run without a Workbench API: what the admin passes to the vendor, a one-time reveal of
// the client secret, and the admin's acknowledgement (which deletes the stored secret).
//
// Durable state lives in run_secrets (no schema change), each row sealed like the engine seals secrets
// (encryptionKey() + secretAad(runId, kind)), so a row can't be copied to another run or kind:
//   "client_secret"           the secret itself (written by App registration). The reveal consumes it: deleting it is
//                              the atomic claim that makes the reveal one-time even when two admins click together.
//   "client_secret_revealed"  {at, by} of the reveal.
//   "handoff_acknowledged"    {at, by} of the acknowledgement.
// Markers never expire (deleteExpiredRunSecrets must not forget them); they go with the run.
import "server-only";
import { z } from "zod";
import { failure, type ActionResult } from "@/lib/action-result";
import { encryptionKey } from "@/lib/auth/keys";
import { decrypt, encrypt } from "@/lib/crypto";
import { recordAuditEvent } from "@/lib/db/audit";
import { deleteRunSecret, getRunSecret, putRunSecret, type RunSecret } from "@/lib/db/run-secrets";
import type { SessionWithUser } from "@/lib/db/sessions";
import { secretAad } from "@/lib/engine/context";
import { maskId } from "@/lib/presenter";
import { CLIENT_SECRET_KIND } from "@/lib/steps/app-registration";
import { storageAccountsBySubscription } from "@/lib/steps/role-assignments";
import { runViewFor, type RunView } from "./run-control";

/** run_secrets kind of the reveal marker. */
export const SECRET_REVEALED_KIND = "client_secret_revealed";
/** run_secrets kind of the acknowledgement marker. */
export const HANDOFF_ACKNOWLEDGED_KIND = "handoff_acknowledged";

const MARKER_KEY_ID = "portal-marker";
const MARKER_EXPIRES_AT = new Date("9999-12-31T00:00:00.000Z");

/** Who did something to the hand-off, and when. */
export interface HandoffMark {
  at: Date;
  by: string;
}

/** What the manual hand-off panel shows. Never holds the secret value; in presenter mode not even the whole ids. */
export interface ManualHandoff {
  /** Presenter mode: tenantId and clientId are masked (not copyable) and the hint is empty. */
  masked: boolean;
  tenantId: string;
  clientId: string;
  storageAccounts: string[];
  secret: {
    /** Entra's hint: the secret's first characters. */
    hint: string;
    expiresAt: Date | null;
    /** Whether the portal still holds the value (false once revealed, acknowledged or expired and cleaned up). */
    stored: boolean;
    revealed: HandoffMark | null;
  };
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
}

const NOT_AVAILABLE = "This run has no manual hand-off, or it belongs to another tenant.";

const appOutputSchema = z.object({
  appId: z.string().min(1),
  secret: z.object({ hint: z.string(), expiresAt: z.string() }).nullable().optional(),
});
const handoffOutputSchema = z.object({ mode: z.literal("manual") });
const markSchema = z.object({ at: z.iso.datetime(), by: z.string() });

/** The manual hand-off of the session's tenant's run; null unless its Workbench hand-off step is done in manual mode. */
export async function getManualHandoff(
  session: SessionWithUser,
  runId: string,
  { presenter = false, view: given }: { presenter?: boolean; view?: RunView | null } = {},
): Promise<ManualHandoff | null> {
  const base = await manualRun(session, runId, given);
  if (!base) return null;
  const { view, clientId, appSecret } = base;
  const [stored, revealed, acknowledged] = await Promise.all([
    getRunSecret(runId, CLIENT_SECRET_KIND),
    readMark(runId, SECRET_REVEALED_KIND),
    readMark(runId, HANDOFF_ACKNOWLEDGED_KIND),
  ]);
  const outputExpiry = appSecret?.expiresAt ? new Date(appSecret.expiresAt) : null;
  return {
    masked: presenter,
    tenantId: presenter ? maskId(view.run.tenantId) : view.run.tenantId,
    clientId: presenter ? maskId(clientId) : clientId,
    storageAccounts: storageAccounts(view),
    secret: {
      hint: presenter ? "" : (stored?.hint ?? appSecret?.hint ?? ""),
      expiresAt: stored?.expiresAt ?? (outputExpiry && !Number.isNaN(outputExpiry.getTime()) ? outputExpiry : null),
      stored: stored !== null,
      revealed,
    },
    acknowledgedAt: acknowledged?.at ?? null,
    acknowledgedBy: acknowledged?.by ?? null,
  };
}

/** Refusal of a reveal while presenter mode is on. */
export const PRESENTER_REVEAL_REFUSED =
  "Presenter mode is on, so the secret can't be revealed: your screen may be shared. Turn presenter mode off, off-screen, to reveal it.";

/**
 * Decrypt the stored client secret for the admin, once per run: the stored copy is consumed and the reveal audited.
 * Refused (and audited) in presenter mode, whatever the page showed.
 */
export async function revealClientSecret(
  session: SessionWithUser,
  runId: string,
  { presenter = false, now = new Date() }: { presenter?: boolean; now?: Date } = {},
): Promise<ActionResult<{ value: string }>> {
  const base = await manualRun(session, runId);
  if (!base) return failure(NOT_AVAILABLE, { code: "forbidden" });
  if (presenter) {
    await audit(session, runId, "handoff.secret_revealed", "denied", { reason: "presenter_mode" });
    return failure(PRESENTER_REVEAL_REFUSED, { code: "presenter_mode" });
  }
  const acknowledged = await readMark(runId, HANDOFF_ACKNOWLEDGED_KIND);
  if (acknowledged)
    return failure(`The hand-off was already acknowledged by ${acknowledged.by}; the portal no longer holds the secret.`, {
      code: "conflict",
    });
  const revealed = await readMark(runId, SECRET_REVEALED_KIND);
  if (revealed) {
    await audit(session, runId, "handoff.secret_revealed", "denied", { reason: "already_revealed" });
    return failure(alreadyRevealed(revealed), { code: "already_revealed" });
  }
  const sealed = await getRunSecret(runId, CLIENT_SECRET_KIND);
  if (!sealed)
    return failure(
      "The portal no longer holds this run's client secret. Create a new secret for the app registration and give that to the vendor.",
      { code: "not_found" },
    );
  if (sealed.expiresAt <= now)
    return failure("This client secret has expired. Create a new secret for the app registration and give that to the vendor.", {
      code: "expired",
    });
  const value = unseal(runId, CLIENT_SECRET_KIND, sealed);
  if (value === null)
    return failure(
      "The stored secret can't be decrypted (the portal's encryption key changed). Create a new secret for the app registration.",
      { code: "undecryptable" },
    );
  // The claim: only one concurrent reveal deletes the row; the others are refused without the value.
  if (!(await deleteRunSecret(runId, CLIENT_SECRET_KIND))) {
    const winner = await readMark(runId, SECRET_REVEALED_KIND);
    return failure(
      winner ? alreadyRevealed(winner) : "Another admin revealed this secret a moment ago. Ask them for it, or create a new secret later.",
      { code: "already_revealed" },
    );
  }
  await writeMark(runId, SECRET_REVEALED_KIND, { at: now, by: session.user.upn });
  await audit(session, runId, "handoff.secret_revealed", "success", {});
  return { ok: true, data: { value } };
}

/** Record that the admin gave the values to the vendor; deletes whatever secret the portal still holds. */
export async function acknowledgeHandoff(
  session: SessionWithUser,
  runId: string,
  now: Date = new Date(),
): Promise<ActionResult<HandoffMark>> {
  const base = await manualRun(session, runId);
  if (!base) return failure(NOT_AVAILABLE, { code: "forbidden" });
  const acknowledged = await readMark(runId, HANDOFF_ACKNOWLEDGED_KIND);
  if (acknowledged) return failure(`Already handed off manually by ${acknowledged.by}.`, { code: "conflict" });
  const mark = { at: now, by: session.user.upn };
  // Marker first: if the delete fails the panel still says who acknowledged, and a retry deletes the secret.
  await writeMark(runId, HANDOFF_ACKNOWLEDGED_KIND, mark);
  const deleted = await deleteRunSecret(runId, CLIENT_SECRET_KIND);
  await audit(session, runId, "handoff.acknowledged", "success", { secretDeleted: deleted });
  return { ok: true, data: mark };
}

async function manualRun(
  session: SessionWithUser,
  runId: string,
  given?: RunView | null,
): Promise<{ view: RunView; clientId: string; appSecret: { hint: string; expiresAt: string } | null } | null> {
  const view = await runViewFor(session, runId, given);
  if (!view) return null;
  const step = (id: string) => view.run.steps.find((s) => s.stepId === id);
  const handoff = step("workbench-handoff");
  if (handoff?.status !== "done" || !handoffOutputSchema.safeParse(handoff.outputs).success) return null;
  const app = appOutputSchema.safeParse(step("app-registration")?.outputs);
  if (!app.success) return null;
  return { view, clientId: app.data.appId, appSecret: app.data.secret ?? null };
}

// Same names, order and fallback as the Workbench step sends (handoffStorageAccounts).
function storageAccounts(view: RunView): string[] {
  const outputs = view.run.steps.find((s) => s.stepId === "storage" && s.status === "done")?.outputs;
  return [...new Set([...storageAccountsBySubscription(view.config, outputs).values()].flat())].sort();
}

function alreadyRevealed(mark: HandoffMark): string {
  return `This secret was already revealed once, by ${mark.by} at ${mark.at.toISOString()}. Ask them for it, or create a new secret for the app registration later.`;
}

function unseal(runId: string, kind: string, sealed: RunSecret): string | null {
  try {
    return decrypt(sealed.ciphertext, encryptionKey(), secretAad(runId, kind));
  } catch {
    return null;
  }
}

async function readMark(runId: string, kind: string): Promise<HandoffMark | null> {
  const sealed = await getRunSecret(runId, kind);
  if (!sealed) return null;
  const plain = unseal(runId, kind, sealed);
  const parsed = plain === null ? null : markSchema.safeParse(safeJson(plain));
  // A marker that can't be read still counts: better to refuse a reveal than to show a secret twice.
  if (!parsed?.success) return { at: sealed.createdAt, by: "another admin" };
  return { at: new Date(parsed.data.at), by: parsed.data.by };
}

async function writeMark(runId: string, kind: string, mark: HandoffMark): Promise<void> {
  const ciphertext = encrypt(JSON.stringify({ at: mark.at.toISOString(), by: mark.by }), encryptionKey(), secretAad(runId, kind));
  await putRunSecret({ runId, kind, ciphertext, keyId: MARKER_KEY_ID, hint: "", expiresAt: MARKER_EXPIRES_AT });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

async function audit(
  session: SessionWithUser,
  runId: string,
  action: string,
  outcome: "success" | "denied",
  detail: Record<string, string | boolean>,
): Promise<void> {
  await recordAuditEvent({
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
