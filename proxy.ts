// Every page: security headers with a fresh CSP nonce. `?present=1` / `?present=0`: set or clear presenter mode, then come back without the parameter.
import { NextResponse, type NextRequest } from "next/server";
import { setPresenterCookie } from "@/lib/auth/cookies";
import { env } from "@/lib/env";
import { parsePresentParam } from "@/lib/presenter";
import { newNonce, securityHeaders } from "@/lib/security-headers";

/** Adds the security headers (Next reads the request's CSP to put the nonce on its scripts); redirects GET/HEAD carrying `present`. */
export function proxy(request: NextRequest) {
  const e = env();
  const headers = securityHeaders({
    nonce: newNonce(),
    portalUrl: e.PORTAL_URL,
    authorityUrl: e.ENTRA_AUTHORITY,
    dev: e.NODE_ENV === "development",
  });
  const on = parsePresentParam(request.nextUrl.searchParams.get("present"));
  if (on === null || (request.method !== "GET" && request.method !== "HEAD")) {
    const requestHeaders = new Headers(request.headers);
    requestHeaders.set("Content-Security-Policy", headers["Content-Security-Policy"] ?? "");
    const response = NextResponse.next({ request: { headers: requestHeaders } });
    for (const [k, v] of Object.entries(headers)) response.headers.set(k, v);
    return response;
  }
  const target = new URL(request.nextUrl.pathname, e.PORTAL_URL);
  request.nextUrl.searchParams.forEach((value, key) => {
    if (key !== "present") target.searchParams.append(key, value);
  });
  const response = NextResponse.redirect(target, 303);
  for (const [k, v] of Object.entries(headers)) response.headers.set(k, v);
  setPresenterCookie(response, on);
  return response;
}

export const config = {
  // The run page's status poll (JSON, many viewers per run) sets its own headers: no nonce or page CSP needed there.
  matcher: ["/((?!_next/static|_next/image|favicon.ico|onboarding/[^/]+/status$).*)"],
};
