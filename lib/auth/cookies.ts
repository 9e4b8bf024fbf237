// Cookie names and attributes shared by the route handlers and the session reader.
import "server-only";
import { env } from "@/lib/env";

export const SESSION_COOKIE = "aks_session";
/** Binds pending sign-ins to the browser that started them (login CSRF): their states, oldest first, "."-separated. */
export const SIGN_IN_STATE_COOKIE = "aks_sign_in";
/** How long a started sign-in can be completed: its pending row and its state in the cookie. */
export const SIGN_IN_TTL_MS = 10 * 60 * 1000;
/** Sign-ins one browser can have pending: one started by a cross-site navigation doesn't replace the browser's own. */
export const MAX_PENDING_SIGN_INS = 5;
// randomToken(): 32 bytes, base64url.
const STATE = /^[A-Za-z0-9_-]{43}$/;

/** The states in a sign-in state cookie, oldest first; malformed entries are dropped. */
export function pendingStates(cookie: string | undefined): string[] {
  return (cookie ?? "")
    .split(".")
    .filter((s) => STATE.test(s))
    .slice(-MAX_PENDING_SIGN_INS);
}

/** The cookie's value once `state` is started: the newest MAX_PENDING_SIGN_INS states. */
export function addPendingState(cookie: string | undefined, state: string): string {
  return [...pendingStates(cookie).filter((s) => s !== state), state].slice(-MAX_PENDING_SIGN_INS).join(".");
}

/** The cookie's value once `state` is used; "" when none is left. */
export function removePendingState(cookie: string | undefined, state: string): string {
  return pendingStates(cookie)
    .filter((s) => s !== state)
    .join(".");
}

/** Presenter mode ("1" = on): a browser-session cookie, so it survives sign-out and re-sign-in during a screen share. */
export const PRESENTER_COOKIE = "aks_presenter";

/** httpOnly, SameSite=Lax, Secure whenever the portal is served over https (everywhere but localhost); no max age = until the browser closes. */
export function cookieOptions(maxAgeSeconds?: number) {
  return {
    httpOnly: true,
    sameSite: "lax" as const,
    secure: env().PORTAL_URL.startsWith("https://"),
    path: "/",
    ...(maxAgeSeconds === undefined ? {} : { maxAge: maxAgeSeconds }),
  };
}

/** Set or clear presenter mode on a response (route handler or proxy). */
export function setPresenterCookie(
  response: { cookies: { set(name: string, value: string, options: ReturnType<typeof cookieOptions>): unknown } },
  on: boolean,
): void {
  if (on) response.cookies.set(PRESENTER_COOKIE, "1", cookieOptions());
  else response.cookies.set(PRESENTER_COOKIE, "", cookieOptions(0));
}
