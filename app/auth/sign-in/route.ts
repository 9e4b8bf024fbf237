import { NextResponse, type NextRequest } from "next/server";
import { SIGN_IN_STATE_COOKIE, cookieOptions } from "@/lib/auth/cookies";
import { beginSignIn } from "@/lib/auth/sign-in";

export const dynamic = "force-dynamic";

// Start the Microsoft sign-in; the state cookie ties the callback to this browser.
export async function GET(request: NextRequest) {
  const { authorizeUrl, state } = await beginSignIn(request.nextUrl.searchParams.get("returnTo"));
  const response = NextResponse.redirect(authorizeUrl, 303);
  response.cookies.set(SIGN_IN_STATE_COOKIE, state, cookieOptions(10 * 60));
  return response;
}
