// Session glue for pages and actions: the only lib/ module that touches next/*.
import "server-only";
import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { cache } from "react";
import { sha256 } from "@/lib/crypto";
import { findSession, type SessionWithUser } from "@/lib/db/sessions";
import { PRESENTER_COOKIE, SESSION_COOKIE } from "./cookies";

/** The signed-in session of this request, or null. Memoised per request. */
export const getSession = cache(async (): Promise<SessionWithUser | null> => {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!token) return null;
  return findSession(sha256(token));
});

/** The session, or a redirect to sign-in that comes back to `returnTo`. */
export async function requireSession(returnTo: string): Promise<SessionWithUser> {
  const session = await getSession();
  if (!session) redirect(`/?returnTo=${encodeURIComponent(returnTo)}`);
  return session;
}

/** Whether this browser is in presenter mode: ids masked, secrets never rendered or revealed. Memoised per request. */
export const isPresenterMode = cache(async (): Promise<boolean> => (await cookies()).get(PRESENTER_COOKIE)?.value === "1");
