// Server-side sessions. The browser holds an opaque token; the database only its SHA-256.
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
  const session = await prisma.session.findUnique({ where: { id: tokenHash }, include: { user: true } });
  const now = new Date();
  if (!session || session.expiresAt <= now) return null;
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
