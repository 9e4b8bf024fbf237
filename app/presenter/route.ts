import { NextResponse, type NextRequest } from "next/server";
import { setPresenterCookie } from "@/lib/auth/cookies";
import { safeReturnTo } from "@/lib/auth/sign-in";
import { env } from "@/lib/env";
import { parsePresentParam } from "@/lib/presenter";

export const dynamic = "force-dynamic";

// The header toggle: turn presenter mode on or off and go back to the page. POST only, same origin only.
export async function POST(request: NextRequest) {
  const origin = request.headers.get("origin");
  if (origin && origin !== new URL(env().PORTAL_URL).origin) {
    return new NextResponse("Cross-origin request refused", { status: 403 });
  }
  const form = await request.formData();
  const present = form.get("present");
  const on = parsePresentParam(typeof present === "string" ? present : null);
  if (on === null) return new NextResponse("present must be 1 or 0", { status: 400 });
  const returnTo = form.get("returnTo");
  const response = NextResponse.redirect(new URL(safeReturnTo(typeof returnTo === "string" ? returnTo : null), env().PORTAL_URL), 303);
  setPresenterCookie(response, on);
  return response;
}
