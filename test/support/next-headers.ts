// next/headers for server actions called outside a request: cookies() answers the session cookie a test sets.
// Use as `vi.mock("next/headers", () => import("@/test/support/next-headers"))`, then set `sessionCookie.token`.
import { SESSION_COOKIE } from "@/lib/auth/cookies";

/** The session token the mocked cookies() returns; "" means signed out. */
export const sessionCookie = { token: "" };

/** The mock's cookies(): the session cookie only, as Next's request cookie store reads it. */
export function cookies() {
  return Promise.resolve({
    get: (name: string) => (name === SESSION_COOKIE && sessionCookie.token ? { name, value: sessionCookie.token } : undefined),
  });
}
