// `?present=1` / `?present=0` on any page: set or clear presenter mode, then come back to the same URL without the parameter.
import { NextResponse, type NextRequest } from "next/server";
import { setPresenterCookie } from "@/lib/auth/cookies";
import { env } from "@/lib/env";
import { parsePresentParam } from "@/lib/presenter";

/** Redirects GET/HEAD requests carrying `present`, so every render reads presenter mode from the cookie alone. */
export function proxy(request: NextRequest) {
  const on = parsePresentParam(request.nextUrl.searchParams.get("present"));
  if (on === null || (request.method !== "GET" && request.method !== "HEAD")) return NextResponse.next();
  const target = new URL(request.nextUrl.pathname, env().PORTAL_URL);
  request.nextUrl.searchParams.forEach((value, key) => {
    if (key !== "present") target.searchParams.append(key, value);
  });
  const response = NextResponse.redirect(target, 303);
  setPresenterCookie(response, on);
  return response;
}

export const config = {
  matcher: [{ source: "/((?!_next/|favicon.ico).*)", has: [{ type: "query", key: "present" }] }],
};
