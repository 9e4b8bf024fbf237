// Cookie names and attributes shared by the route handlers and the session reader.
import { env } from "@/lib/env";

export const SESSION_COOKIE = "aks_session";
/** Binds a pending sign-in to the browser that started it (login CSRF). */
export const SIGN_IN_STATE_COOKIE = "aks_sign_in";

/** httpOnly, SameSite=Lax, Secure whenever the portal is served over https (everywhere but localhost). */
export function cookieOptions(maxAgeSeconds: number) {
  return {
    httpOnly: true,
    sameSite: "lax" as const,
    secure: env().PORTAL_URL.startsWith("https://"),
    path: "/",
    maxAge: maxAgeSeconds,
  };
}
