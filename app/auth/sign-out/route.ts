import { NextResponse, type NextRequest } from "next/server";
import { SESSION_COOKIE, cookieOptions } from "@/lib/auth/cookies";
import { signOut } from "@/lib/auth/sign-in";
import { env } from "@/lib/env";

export const dynamic = "force-dynamic";

// End the session here and at Microsoft. POST only, same origin only.
export async function POST(request: NextRequest) {
  const origin = request.headers.get("origin");
  if (origin && origin !== new URL(env().PORTAL_URL).origin) {
    return new NextResponse("Cross-origin sign-out refused", { status: 403 });
  }
  const logoutUrl = await signOut(request.cookies.get(SESSION_COOKIE)?.value);
  const response = NextResponse.redirect(logoutUrl, 303);
  response.cookies.set(SESSION_COOKIE, "", cookieOptions(0));
  return response;
}
