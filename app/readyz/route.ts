import { NextResponse } from "next/server";
import { readiness } from "@/lib/health";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

// Readiness: 200 when the database answers, its migrations are applied and the sign-in authority's metadata is reachable;
// 503 otherwise, and while the server drains for a shutdown. No session needed; the answer names no host or secret.
export async function GET() {
  const result = await readiness();
  const { ready, ...body } = result;
  return NextResponse.json(body, { status: ready ? 200 : 503, headers: { "Cache-Control": "no-store" } });
}
