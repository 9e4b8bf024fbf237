import { getSession, isPresenterMode } from "@/lib/auth/session";
import { getRunChange } from "@/lib/onboarding/run-control";
import { runIdSchema } from "@/lib/onboarding/schemas";

export const dynamic = "force-dynamic";

// What the run page polls while a run works: a fingerprint of the run, so the page re-renders only when it changed, and
// the running steps' progress, shown in place.
export async function GET(_request: Request, { params }: { params: Promise<{ runId: string }> }) {
  const { runId } = await params;
  const session = await getSession();
  if (!session) return new Response(null, { status: 401 });
  const change = runIdSchema.safeParse(runId).success ? await getRunChange(session, runId, { presenter: await isPresenterMode() }) : null;
  if (!change) return new Response(null, { status: 403 });
  return Response.json(change, { headers: { "cache-control": "no-store" } });
}
