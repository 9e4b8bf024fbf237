import { getSession, isPresenterMode } from "@/lib/auth/session";
import { getRunChange } from "@/lib/onboarding/run-control";
import { runIdSchema } from "@/lib/onboarding/schemas";
import { env } from "@/lib/env";
import { securityHeaders } from "@/lib/security-headers";

export const dynamic = "force-dynamic";

// proxy.ts skips this route (it is polled by every viewer of a running run): the headers a JSON answer needs, set here.
let cachedHeaders: Record<string, string> | undefined;

function pollHeaders(): Record<string, string> {
  if (cachedHeaders) return cachedHeaders;
  const e = env();
  const { "Content-Security-Policy": _pageCsp, ...rest } = securityHeaders({
    nonce: "",
    portalUrl: e.PORTAL_URL,
    authorityUrl: e.ENTRA_AUTHORITY,
    dev: e.NODE_ENV === "development",
  });
  cachedHeaders = { ...rest, "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'" };
  return cachedHeaders;
}

// What the run page polls while a run works: a fingerprint of the run, so the page re-renders only when it changed, and
// the running steps' progress, shown in place.
export async function GET(_request: Request, { params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  const session = await getSession();
  if (!session) return new Response(null, { status: 401, headers: pollHeaders() });
  const change = runIdSchema.safeParse(runId).success ? await getRunChange(session, runId, { presenter: await isPresenterMode() }) : null;
  if (!change) return new Response(null, { status: 403, headers: pollHeaders() });
  return Response.json(change, { headers: { ...pollHeaders(), "cache-control": "no-store" } });
}
