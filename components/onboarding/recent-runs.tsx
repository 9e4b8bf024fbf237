// The tenant's onboarding runs, newest first: how a second admin finds a run to continue.
import Link from "next/link";
import { CredentialBadge } from "@/components/onboarding/credential-status";
import { listRunsForTenant } from "@/lib/db/runs";
import { listRunsAttention } from "@/lib/db/step-runs";
import { attentionHeadline, clustersNeedingAttention } from "@/lib/onboarding/step-summary";
import { credentialLevels } from "@/lib/rotation/service";

const STATUS_TEXT: Record<string, string> = {
  draft: "Draft",
  planned: "Plan waiting for confirmation",
  running: "In progress",
  completed: "Complete",
  failed: "Stopped: needs attention",
  cancelled: "Cancelled",
  offboarding: "Removal in progress",
  offboarded: "Removed",
};

export async function RecentRuns({ tenantId }: { tenantId: string }) {
  const runs = await listRunsForTenant(tenantId, { limit: 10 });
  if (runs.length === 0) return null;
  const [secretLevels, attention] = await Promise.all([credentialLevels(runs.map((r) => r.id)), listRunsAttention(runs.map((r) => r.id))]);
  const statusText = (run: (typeof runs)[number]) =>
    run.status === "completed"
      ? [STATUS_TEXT.completed, attentionHeadline(clustersNeedingAttention(attention.get(run.id) ?? []).length)].filter(Boolean).join(" — ")
      : (STATUS_TEXT[run.status] ?? run.status);
  return (
    <section aria-labelledby="recent-runs" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <h2 id="recent-runs" className="mb-3 font-semibold text-slate-900">
        Onboarding runs in this tenant
      </h2>
      <ul className="divide-y divide-slate-100 text-sm">
        {runs.map((run) => (
          <li key={run.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
            <Link
              href={run.status === "planned" || run.status === "draft" ? `/onboarding/${run.id}/plan` : `/onboarding/${run.id}`}
              className="font-medium text-brand-700 underline"
            >
              Started {run.createdAt.toISOString().slice(0, 16).replace("T", " ")} UTC by {run.createdByUpn}
            </Link>
            <span className="flex items-center gap-2 text-slate-600">
              <CredentialBadge level={secretLevels.get(run.id)} />
              {statusText(run)}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
