import { getSession } from "@/lib/auth/session";
import { getRunChangeStamp } from "@/lib/onboarding/run-control";
import { runIdSchema } from "@/lib/onboarding/schemas";

export const dynamic = "force-dynamic";

// What the run page polls while a run works: a fingerprint of the run, so the page re-renders only when it changed.
export async function GET(_request: Request, { params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  const session = await getSession();
  if (!session) return new Response(null, { status: 401 });
  const stamp = runIdSchema.safeParse(runId).success ? await getRunChangeStamp(session, runId) : null;
  if (!stamp) return new Response(null, { status: 403 });
  return Response.json({ stamp }, { headers: { "cache-control": "no-store" } });
}
