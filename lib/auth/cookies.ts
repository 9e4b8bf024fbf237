// Cookie names and attributes shared by the route handlers and the session reader.
import { env } from "@/lib/env";

export const SESSION_COOKIE = "aks_session";
/** Binds a pending sign-in to the browser that started it (login CSRF). */
export const SIGN_IN_STATE_COOKIE = "aks_sign_in";

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
export function setPresenterCookie(response: { cookies: { set(name: string, value: string, options: ReturnType<typeof cookieOptions>): unknown } }, on: boolean): void {
  if (on) response.cookies.set(PRESENTER_COOKIE, "1", cookieOptions());
  else response.cookies.set(PRESENTER_COOKIE, "", cookieOptions(0));
}
