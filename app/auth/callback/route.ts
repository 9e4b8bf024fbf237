import { NextResponse, type NextRequest } from "next/server";
import { SESSION_COOKIE, SIGN_IN_STATE_COOKIE, SIGN_IN_TTL_MS, cookieOptions, pendingStates, removePendingState } from "@/lib/auth/cookies";
import { completeSignIn } from "@/lib/auth/sign-in";
import { env } from "@/lib/env";

export const dynamic = "force-dynamic";

// Finish the sign-in: a session cookie only when state, PKCE and nonce all verified.
export async function GET(request: NextRequest) {
  const pending = request.cookies.get(SIGN_IN_STATE_COOKIE)?.value;
  const outcome = await completeSignIn(request.nextUrl.searchParams, pendingStates(pending));
  const base = env().PORTAL_URL;
  const response = NextResponse.redirect(outcome.ok ? `${base}${outcome.returnTo}` : `${base}/auth/error?code=${outcome.code}`, 303);
  // Only the used state goes: a forged callback must not cancel this browser's other pending sign-ins.
  const remaining = removePendingState(pending, request.nextUrl.searchParams.get("state") ?? "");
  if (remaining !== (pending ?? "")) {
    response.cookies.set(SIGN_IN_STATE_COOKIE, remaining, remaining ? cookieOptions(SIGN_IN_TTL_MS / 1000) : cookieOptions(0));
  }
  if (outcome.ok) response.cookies.set(SESSION_COOKIE, outcome.sessionToken, cookieOptions(outcome.maxAgeSeconds));
  return response;
}
