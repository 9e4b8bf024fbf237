import type { NextRequest } from "next/server";
import { auditDownload } from "@/lib/audit/access";
import { getSession } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

// The signed-in tenant's whole audit chain as a download: ?format=jsonl (default) or csv.
export async function GET(request: NextRequest) {
  const result = await auditDownload(await getSession(), { format: request.nextUrl.searchParams.get("format") });
  if (!result.ok) return new Response(null, { status: result.status });
  return new Response(result.body, {
    headers: {
      "content-type": result.contentType,
      "content-disposition": `attachment; filename="${result.filename}"`,
      "cache-control": "no-store",
    },
  });
}
