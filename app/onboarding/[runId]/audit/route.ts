import type { NextRequest } from "next/server";
import { auditDownload } from "@/lib/audit/access";
import { getSession } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

// One run's audit events as a download: ?format=jsonl (default) or csv. Only for the run's own tenant.
export async function GET(request: NextRequest, { params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  const result = await auditDownload(await getSession(), { runId, format: request.nextUrl.searchParams.get("format") });
  if (!result.ok) return new Response(null, { status: result.status });
  return new Response(result.body, {
    headers: {
      "content-type": result.contentType,
      "content-disposition": `attachment; filename="${result.filename}"`,
      "cache-control": "no-store",
    },
  });
}
