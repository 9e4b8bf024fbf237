import type { NextRequest } from "next/server";
import { serveDownload } from "@/app/download";
import { auditDownload } from "@/lib/audit/access";

export const dynamic = "force-dynamic";

// One run's audit events as a streamed download: ?format=jsonl (default) or csv. Only for the run's own tenant.
export async function GET(request: NextRequest, { params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  return serveDownload(request, (session, format) => auditDownload(session, { runId, format }));
}
