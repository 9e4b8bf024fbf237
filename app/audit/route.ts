import type { NextRequest } from "next/server";
import { serveDownload } from "@/app/download";
import { auditDownload } from "@/lib/audit/access";

export const dynamic = "force-dynamic";

// The signed-in tenant's whole audit chain as a streamed download: ?format=jsonl (default) or csv.
export function GET(request: NextRequest) {
  return serveDownload(request, (session, format) => auditDownload(session, { format }));
}
