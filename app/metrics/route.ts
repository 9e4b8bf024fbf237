import { createHash, timingSafeEqual } from "node:crypto";
import { NextResponse, type NextRequest } from "next/server";
import { countRunsByStatus } from "@/lib/db/run-counts";
import { env } from "@/lib/env";
import { errorText, log } from "@/lib/log";
import { metrics } from "@/lib/metrics";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

// Prometheus scrape, for a scraper holding METRICS_TOKEN only: without it configured the endpoint does not exist (404),
// and a missing or wrong token gets 401, compared in constant time.
export async function GET(request: NextRequest) {
  const token = env().METRICS_TOKEN;
  if (!token) return new NextResponse("Not found", { status: 404 });
  if (!bearerMatches(request.headers.get("authorization"), token)) {
    return new NextResponse("Unauthorized", { status: 401, headers: { "WWW-Authenticate": 'Bearer realm="metrics"' } });
  }
  const m = metrics();
  try {
    // Runs by status come from the database at scrape time: every instance reports the same, correct, numbers.
    const counts = await countRunsByStatus();
    for (const [status, n] of Object.entries(counts)) m.runs.set({ status }, n);
  } catch (error) {
    // The process metrics still answer; the run gauge goes stale (and absent) rather than wrong.
    m.runs.reset();
    log().warn({ event: "metrics.runs_failed", error: errorText(error) }, "counting runs for /metrics failed");
  }
  return new NextResponse(await m.registry.metrics(), {
    headers: { "Content-Type": m.registry.contentType, "Cache-Control": "no-store" },
  });
}

// Both sides hashed to one length first: timingSafeEqual needs equal lengths, and comparing lengths would leak them.
function bearerMatches(header: string | null, token: string): boolean {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  const given = match?.[1] ?? "";
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(given), digest(token)) && given.length > 0;
}
