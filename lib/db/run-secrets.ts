// Secrets a run created (the app registration's client secret) kept sealed until the hand-off, then deleted.
import "server-only";
import { db } from "./client";

/** A sealed run secret. ciphertext is AES-256-GCM output of the caller; lib/db never sees plaintext. */
export interface RunSecret {
  runId: string;
  /** e.g. "client_secret"; one secret per run and kind. */
  kind: string;
  ciphertext: string;
  /** Which key sealed it. */
  keyId: string;
  /** A few characters safe to show, e.g. Entra's hint. */
  hint: string;
  /** When the secret itself stops working (the credential's end date), not a storage TTL. */
  expiresAt: Date;
  createdAt: Date;
}

/** What putRunSecret stores. */
export type NewRunSecret = Omit<RunSecret, "createdAt">;

/** Stores the run's secret of this kind, replacing an earlier one (a retried step that created a new secret). */
export async function putRunSecret(input: NewRunSecret): Promise<RunSecret> {
  const prisma = await db();
  const data = { ciphertext: input.ciphertext, keyId: input.keyId, hint: input.hint, expiresAt: input.expiresAt, createdAt: new Date() };
  // Unique where repeated in create and no nested writes: Prisma emits one INSERT … ON CONFLICT (see users.ts).
  return prisma.runSecret.upsert({
    where: { runId_kind: { runId: input.runId, kind: input.kind } },
    create: { runId: input.runId, kind: input.kind, ...data },
    update: data,
  });
}

/** The run's sealed secret of this kind, or null. Expired ones are returned too: the caller decides. */
export async function getRunSecret(runId: string, kind: string): Promise<RunSecret | null> {
  const prisma = await db();
  return prisma.runSecret.findUnique({ where: { runId_kind: { runId, kind } } });
}

/** Deletes the run's secret of this kind (after the hand-off); false if there was none. */
export async function deleteRunSecret(runId: string, kind: string): Promise<boolean> {
  const prisma = await db();
  const { count } = await prisma.runSecret.deleteMany({ where: { runId, kind } });
  return count > 0;
}

/** Deletes secrets whose credential has expired (runs abandoned before the hand-off); returns how many. */
export async function deleteExpiredRunSecrets(now: Date = new Date()): Promise<number> {
  const prisma = await db();
  const { count } = await prisma.runSecret.deleteMany({ where: { expiresAt: { lte: now } } });
  return count;
}
