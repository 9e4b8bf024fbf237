// The tenant's onboarding runs, newest first: how a second admin finds a run to continue.
import Link from "next/link";
import { CredentialBadge } from "@/components/onboarding/credential-status";
import { listRunsForTenant } from "@/lib/db/runs";
import { credentialLevels } from "@/lib/rotation/service";

const STATUS_TEXT: Record<string, string> = {
  draft: "Draft",
  planned: "Plan waiting for confirmation",
  running: "In progress",
  completed: "Complete",
  failed: "Stopped: needs attention",
  cancelled: "Cancelled",
};

export async function RecentRuns({ tenantId }: { tenantId: string }) {
  const runs = await listRunsForTenant(tenantId, { limit: 10 });
  if (runs.length === 0) return null;
  const secretLevels = await credentialLevels(runs.map((r) => r.id));
  return (
    <section aria-labelledby="recent-runs" className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <h2 id="recent-runs" className="mb-3 font-semibold text-slate-900">Onboarding runs in this tenant</h2>
      <ul className="divide-y divide-slate-100 text-sm">
        {runs.map((run) => (
          <li key={run.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
            <Link href={run.status === "planned" || run.status === "draft" ? `/onboarding/${run.id}/plan` : `/onboarding/${run.id}`} className="font-medium text-brand-700 underline">
              Started {run.createdAt.toISOString().slice(0, 16).replace("T", " ")} UTC by {run.createdByUpn}
            </Link>
            <span className="flex items-center gap-2 text-slate-600">
              <CredentialBadge level={secretLevels.get(run.id)} />
              {STATUS_TEXT[run.status] ?? run.status}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}
