import { NextResponse, type NextRequest } from "next/server";
import { SIGN_IN_STATE_COOKIE, SIGN_IN_TTL_MS, addPendingState, cookieOptions } from "@/lib/auth/cookies";
import { allowSignInStart } from "@/lib/auth/rate-limit";
import { beginSignIn } from "@/lib/auth/sign-in";

export const dynamic = "force-dynamic";

// Start the Microsoft sign-in; the state cookie ties the callback to this browser, next to its other pending sign-ins.
export async function GET(request: NextRequest) {
  const allowed = allowSignInStart(request.headers);
  if (!allowed.ok) {
    return new NextResponse(
      `Too many sign-ins were started from your network. Wait ${allowed.retryAfterSeconds} seconds, then try again.\n`,
      {
        status: 429,
        headers: {
          "Retry-After": String(allowed.retryAfterSeconds),
          "Content-Type": "text/plain; charset=utf-8",
          "Cache-Control": "no-store",
        },
      },
    );
  }
  const { authorizeUrl, state } = await beginSignIn(request.nextUrl.searchParams.get("returnTo"));
  const response = NextResponse.redirect(authorizeUrl, 303);
  response.cookies.set(
    SIGN_IN_STATE_COOKIE,
    addPendingState(request.cookies.get(SIGN_IN_STATE_COOKIE)?.value, state),
    cookieOptions(SIGN_IN_TTL_MS / 1000),
  );
  return response;
}
