import { NextResponse, type NextRequest } from "next/server";
import { SESSION_COOKIE, SIGN_IN_STATE_COOKIE, SIGN_IN_TTL_MS, cookieOptions, pendingStates, removePendingState } from "@/lib/auth/cookies";
import { completeSignIn } from "@/lib/auth/sign-in";
import { sha256 } from "@/lib/crypto";
import { findSession } from "@/lib/db/sessions";
import { env } from "@/lib/env";
import { log } from "@/lib/log";
import { metrics } from "@/lib/metrics";

export const dynamic = "force-dynamic";

// Finish the sign-in: a session cookie only when state, PKCE and nonce all verified.
export async function GET(request: NextRequest) {
  const pending = request.cookies.get(SIGN_IN_STATE_COOKIE)?.value;
  const started = performance.now();
  const outcome = await completeSignIn(request.nextUrl.searchParams, pendingStates(pending));
  await logSignIn(outcome, Math.round(performance.now() - started));
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

// The user is logged by tenant and object id only, never by name or UPN (docs/observability.md, personal data).
async function logSignIn(outcome: Awaited<ReturnType<typeof completeSignIn>>, durationMs: number): Promise<void> {
  metrics().signIns.inc({ outcome: outcome.ok ? "success" : outcome.code });
  if (!outcome.ok) {
    log().warn({ event: "auth.sign_in", outcome: "failure", code: outcome.code, durationMs }, `sign-in failed: ${outcome.code}`);
    return;
  }
  const user = (await findSession(sha256(outcome.sessionToken)).catch(() => null))?.user;
  log().info(
    { event: "auth.sign_in", outcome: "success", durationMs, ...(user ? { tenantId: user.tenantId, userObjectId: user.objectId } : {}) },
    "sign-in succeeded",
  );
}
