// Request-scoped reads for the run page: one session lookup and one run read per render, whatever asks for them.
import { cache } from "react";
import type { SessionWithUser } from "@/lib/db/sessions";
import { getRunView, type RunView } from "@/lib/onboarding/run-control";

/** getRunView memoised for this request (server components only; actions read fresh). */
export const pageRunView: (session: SessionWithUser, runId: string) => Promise<RunView | null> = cache(getRunView);
