import type { NextRequest } from "next/server";
import { serveDownload } from "@/app/download";
import { planExportDownload } from "@/lib/exports/download";

export const dynamic = "force-dynamic";

// The run's plan as an Azure CLI script or Terraform, for change approval: ?format=cli|terraform. Only for the run's tenant.
export async function GET(request: NextRequest, { params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  return serveDownload(request, (session, format) => planExportDownload(session, { runId, format }));
}
