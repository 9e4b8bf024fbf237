// People who signed in to the portal.
import "server-only";
import { db } from "./client";

/** A signed-in person, keyed by Entra tenant id + object id. */
export interface User {
  id: string;
  tenantId: string;
  objectId: string;
  upn: string;
  displayName: string;
  createdAt: Date;
  lastSignInAt: Date;
}

/** Identity claims from a successful sign-in (id token: tid, oid, preferred_username, name). */
export interface UserSignIn {
  tenantId: string;
  objectId: string;
  upn: string;
  displayName: string;
}

/** Creates or refreshes the user of a sign-in (upn and name may change in Entra) and stamps lastSignInAt. */
export async function upsertUser(input: UserSignIn): Promise<User> {
  const prisma = await db();
  const now = new Date();
  const data = { upn: input.upn, displayName: input.displayName, lastSignInAt: now };
  // This shape (unique where repeated in create, no nested writes) makes Prisma emit one INSERT … ON CONFLICT,
  // so concurrent first sign-ins do not race into a unique-constraint error. Keep it that way.
  return prisma.user.upsert({
    where: { tenantId_objectId: { tenantId: input.tenantId, objectId: input.objectId } },
    create: { tenantId: input.tenantId, objectId: input.objectId, createdAt: now, ...data },
    update: data,
  });
}

/** The user with this id, or null. */
export async function findUser(id: string): Promise<User | null> {
  const prisma = await db();
  return prisma.user.findUnique({ where: { id } });
}
