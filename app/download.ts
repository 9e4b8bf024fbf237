// Shared glue of the download routes: the request's session and ?format in, the file out as an attachment (never cached).
import type { NextRequest } from "next/server";
import { getSession } from "@/lib/auth/session";
import type { SessionWithUser } from "@/lib/db/sessions";

/** What a lib/ download function returns: the file (whole, or a stream sent as it is read), or the bare status to answer with. */
export type Download =
  { ok: true; body: string | ReadableStream<Uint8Array>; contentType: string; filename: string } | { ok: false; status: number };

/** Answers a GET with what `produce` makes of the signed-in session (or null) and the requested format. */
export async function serveDownload(
  request: NextRequest,
  produce: (session: SessionWithUser | null, format: string | null) => Promise<Download>,
): Promise<Response> {
  const result = await produce(await getSession(), request.nextUrl.searchParams.get("format"));
  if (!result.ok) return new Response(null, { status: result.status });
  return new Response(result.body, {
    headers: {
      "content-type": result.contentType,
      "content-disposition": `attachment; filename="${result.filename}"`,
      "cache-control": "no-store",
    },
  });
}
