// Pending sign-ins (authorization code + PKCE), each usable exactly once.
import "server-only";
import { db } from "./client";

/** A pending sign-in; codeVerifier is caller-encrypted. */
export interface AuthRequest {
  /** SHA-256 hex of the OAuth `state` (the row's primary key). */
  stateHash: string;
  codeVerifier: string;
  nonce: string;
  returnTo: string;
  createdAt: Date;
  expiresAt: Date;
}

/** What createAuthRequest stores; stateHash is the SHA-256 hex of the OAuth `state`. */
export interface NewAuthRequest {
  stateHash: string;
  codeVerifier: string;
  nonce: string;
  returnTo: string;
  expiresAt: Date;
}

/**
 * Stores a pending sign-in before redirecting to Entra. In the same transaction it deletes expired ones and, when
 * `maxPending` are live, the oldest (the first to expire: all live as long), so the table never holds more. The sign-in
 * passes SIGN_IN_PENDING_MAX; the default is its default.
 */
export async function createAuthRequest(input: NewAuthRequest, maxPending = 1000): Promise<AuthRequest> {
  const prisma = await db();
  const now = new Date();
  const { id, ...rest } = await prisma.$transaction(
    async (tx) => {
      // One insert at a time: concurrent ones would each count the others' rows as absent and pass the bound together.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('auth_requests'))`;
      await tx.$executeRaw`
        DELETE FROM "auth_requests" WHERE "expires_at" <= ${now} OR "id" IN (
          SELECT "id" FROM "auth_requests" WHERE "expires_at" > ${now}
          ORDER BY "expires_at" DESC, "created_at" DESC, "id" DESC OFFSET CAST(${Math.max(maxPending - 1, 0)} AS integer))`;
      return tx.authRequest.create({
        data: {
          id: input.stateHash,
          codeVerifier: input.codeVerifier,
          nonce: input.nonce,
          returnTo: input.returnTo,
          expiresAt: input.expiresAt,
        },
      });
    },
    { maxWait: 30_000, timeout: 30_000 },
  );
  return { stateHash: id, ...rest };
}

/** How many pending sign-ins are stored, expired ones included. */
export async function countAuthRequests(): Promise<number> {
  const prisma = await db();
  return prisma.authRequest.count();
}

interface AuthRequestRow {
  id: string;
  code_verifier: string;
  nonce: string;
  return_to: string;
  created_at: Date;
  expires_at: Date;
}

/**
 * Takes the pending sign-in for a state hash: deletes it and returns it if it had not expired, else null.
 * One DELETE … RETURNING: of concurrent callers exactly one gets the row (the others see nothing to delete).
 */
export async function consumeAuthRequest(stateHash: string): Promise<AuthRequest | null> {
  const prisma = await db();
  // Raw SQL because Prisma's delete() is not guaranteed to be a single statement and throws when the row is gone.
  const rows = await prisma.$queryRaw<AuthRequestRow[]>`
    DELETE FROM "auth_requests" WHERE "id" = ${stateHash}
    RETURNING "id", "code_verifier", "nonce", "return_to", "created_at", "expires_at"`;
  const row = rows[0];
  if (!row) return null;
  const request: AuthRequest = {
    stateHash: row.id,
    codeVerifier: row.code_verifier,
    nonce: row.nonce,
    returnTo: row.return_to,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
  };
  return request.expiresAt > new Date() ? request : null;
}

/** Removes abandoned sign-ins; returns how many. */
export async function deleteExpiredAuthRequests(now: Date = new Date()): Promise<number> {
  const prisma = await db();
  const { count } = await prisma.authRequest.deleteMany({ where: { expiresAt: { lte: now } } });
  return count;
}
