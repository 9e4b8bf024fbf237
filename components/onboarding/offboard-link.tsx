// The run page's way to "Remove what this run created", once the run has stopped writing.
import Link from "next/link";
import { OFFBOARDABLE_RUN_STATUSES } from "@/lib/offboarding/control";

/** Shown only to a user who may remove (the page decides it live, as the action will). */
export function OffboardLink({ runId, status, allowed }: { runId: string; status: string; allowed: boolean }) {
  const removed = status === "offboarded";
  if (!removed && (!allowed || !(OFFBOARDABLE_RUN_STATUSES as readonly string[]).includes(status))) return null;
  return (
    <p>
      <Link
        href={`/onboarding/${runId}/offboard`}
        className="text-sm font-medium text-red-800 underline underline-offset-2 hover:text-red-900"
      >
        {removed ? "What was removed" : "Remove what this run created"}
      </Link>
    </p>
  );
}
