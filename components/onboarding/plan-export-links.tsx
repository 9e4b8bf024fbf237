// Downloads of the plan for change approval: the same changes as an Azure CLI script and as Terraform.

/** Two download links; the route authorizes the tenant and audits each download. */
export function PlanExportLinks({ runId }: { runId: string }) {
  return (
    <section aria-labelledby="plan-export" className="rounded-lg border border-slate-200 bg-white px-5 py-4 shadow-sm">
      <h2 id="plan-export" className="font-semibold text-slate-900">
        Export for change approval
      </h2>
      <p className="mt-1 text-sm text-slate-600">
        The same changes, with the exact names, scopes and conditions, for a review or to apply with your own tooling. The files hold no
        secret.
      </p>
      <p className="mt-2 flex flex-wrap gap-4 text-sm">
        <a href={`/onboarding/${runId}/plan/export?format=cli`} download className="text-brand-700 underline">
          Download Azure CLI script
        </a>
        <a href={`/onboarding/${runId}/plan/export?format=terraform`} download className="text-brand-700 underline">
          Download Terraform
        </a>
      </p>
    </section>
  );
}
