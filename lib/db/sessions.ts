// Server-side sessions. The browser holds an opaque token; the database only its SHA-256.
import "server-only";
import { db } from "./client";
import type { User } from "./users";

/** A session row. tokenCache is the caller-encrypted MSAL cache. */
export interface Session {
  /** SHA-256 hex of the session token (the row's primary key). */
  tokenHash: string;
  userId: string;
  homeAccountId: string;
  tokenCache: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

/** A live session and its user, as findSession returns it. */
export interface SessionWithUser extends Session {
  user: User;
}

/** What createSession stores; tokenHash is the SHA-256 hex of the cookie token. */
export interface NewSession {
  tokenHash: string;
  userId: string;
  homeAccountId: string;
  tokenCache: string;
  expiresAt: Date;
}

// lastSeenAt is informational: write it at most this often so every request does not cost a write.
const LAST_SEEN_RESOLUTION_MS = 60_000;

type SessionRow = Omit<Session, "tokenHash"> & { id: string };

type SessionJoinRow = SessionRow & {
  uTenantId: string;
  uObjectId: string;
  uUpn: string;
  uDisplayName: string;
  uCreatedAt: Date;
  uLastSignInAt: Date;
};

function toSession<T extends SessionRow>({ id, ...rest }: T): Omit<T, "id"> & { tokenHash: string } {
  return { tokenHash: id, ...rest };
}

/** Stores a new session for a signed-in user. */
export async function createSession(input: NewSession): Promise<Session> {
  const prisma = await db();
  const row = await prisma.session.create({
    data: {
      id: input.tokenHash,
      userId: input.userId,
      homeAccountId: input.homeAccountId,
      tokenCache: input.tokenCache,
      expiresAt: input.expiresAt,
    },
  });
  return toSession(row);
}

/** The live session for a token hash with its user; null when missing or expired. Touches lastSeenAt at most once a minute. */
export async function findSession(tokenHash: string): Promise<SessionWithUser | null> {
  const prisma = await db();
  // One round trip: Prisma's include would read the user in a second query, and every page, action and poll starts here.
  const [row] = await prisma.$queryRaw<SessionJoinRow[]>`
    SELECT s."id", s."user_id" AS "userId", s."home_account_id" AS "homeAccountId", s."token_cache" AS "tokenCache",
           s."created_at" AS "createdAt", s."last_seen_at" AS "lastSeenAt", s."expires_at" AS "expiresAt",
           u."tenant_id" AS "uTenantId", u."object_id" AS "uObjectId", u."upn" AS "uUpn", u."display_name" AS "uDisplayName",
           u."created_at" AS "uCreatedAt", u."last_sign_in_at" AS "uLastSignInAt"
    FROM "sessions" s JOIN "users" u ON u."id" = s."user_id" WHERE s."id" = ${tokenHash}`;
  const now = new Date();
  if (!row || row.expiresAt <= now) return null;
  const { uTenantId, uObjectId, uUpn, uDisplayName, uCreatedAt, uLastSignInAt, ...sessionRow } = row;
  const session = {
    ...sessionRow,
    user: {
      id: row.userId,
      tenantId: uTenantId,
      objectId: uObjectId,
      upn: uUpn,
      displayName: uDisplayName,
      createdAt: uCreatedAt,
      lastSignInAt: uLastSignInAt,
    },
  };
  if (now.getTime() - session.lastSeenAt.getTime() >= LAST_SEEN_RESOLUTION_MS) {
    // updateMany: no error if the session was deleted meanwhile (sign-out in another tab).
    await prisma.session.updateMany({ where: { id: tokenHash }, data: { lastSeenAt: now } });
    session.lastSeenAt = now;
  }
  return toSession(session);
}

/** Replaces the session's encrypted MSAL cache (after a silent token refresh); a no-op if the session is gone. */
export async function updateSessionTokenCache(tokenHash: string, tokenCache: string): Promise<void> {
  const prisma = await db();
  await prisma.session.updateMany({ where: { id: tokenHash }, data: { tokenCache } });
}

/** Ends a session (sign-out). Returns false if it did not exist. */
export async function deleteSession(tokenHash: string): Promise<boolean> {
  const prisma = await db();
  const { count } = await prisma.session.deleteMany({ where: { id: tokenHash } });
  return count > 0;
}

/** Removes expired sessions; returns how many. */
export async function deleteExpiredSessions(now: Date = new Date()): Promise<number> {
  const prisma = await db();
  const { count } = await prisma.session.deleteMany({ where: { expiresAt: { lte: now } } });
  return count;
}
