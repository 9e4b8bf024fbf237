import type { NextRequest } from "next/server";
import { getSession } from "@/lib/auth/session";
import { planExportDownload } from "@/lib/exports/download";

export const dynamic = "force-dynamic";

// The run's plan as an Azure CLI script or Terraform, for change approval: ?format=cli|terraform. Only for the run's tenant.
export async function GET(request: NextRequest, { params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  const result = await planExportDownload(await getSession(), { runId, format: request.nextUrl.searchParams.get("format") });
  if (!result.ok) return new Response(null, { status: result.status });
  return new Response(result.body, {
    headers: {
      "content-type": result.contentType,
      "content-disposition": `attachment; filename="${result.filename}"`,
      "cache-control": "no-store",
    },
  });
}
