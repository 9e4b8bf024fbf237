import { NextResponse, type NextRequest } from "next/server";
import { SESSION_COOKIE, SIGN_IN_STATE_COOKIE, cookieOptions } from "@/lib/auth/cookies";
import { completeSignIn } from "@/lib/auth/sign-in";
import { env } from "@/lib/env";

export const dynamic = "force-dynamic";

// Finish the sign-in: a session cookie only when state, PKCE and nonce all verified.
export async function GET(request: NextRequest) {
  const outcome = await completeSignIn(request.nextUrl.searchParams, request.cookies.get(SIGN_IN_STATE_COOKIE)?.value);
  const base = env().PORTAL_URL;
  const response = NextResponse.redirect(
    outcome.ok ? `${base}${outcome.returnTo}` : `${base}/auth/error?code=${outcome.code}`,
    303,
  );
  response.cookies.set(SIGN_IN_STATE_COOKIE, "", cookieOptions(0));
  if (outcome.ok) response.cookies.set(SESSION_COOKIE, outcome.sessionToken, cookieOptions(outcome.maxAgeSeconds));
  return response;
}
