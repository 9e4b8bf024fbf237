import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { NewRunForm } from "@/components/onboarding/new-run-form";
import { Notice } from "@/components/ui/notice";
import { requireSession } from "@/lib/auth/session";
import { loadNewRunDefaults } from "@/lib/onboarding/new-run";
import { READ_ONLY_ADVICE } from "@/lib/onboarding/storage-defaults";
import { isVendorStaff } from "@/lib/vendor-view/access";

export const metadata: Metadata = { title: "New onboarding" };

export default async function NewOnboardingPage() {
  const session = await requireSession("/onboarding/new");
  // Vendor staff only view: their sign-in can't read or change a customer's Azure (ARM would answer 401).
  if (isVendorStaff(session)) redirect("/vendor");
  const defaults = await loadNewRunDefaults(session);
  // The form only for a user who could run the first step somewhere: decided live (in the defaults), as creating the run decides it.
  const withClusters = defaults.ok ? defaults.data.subscriptions.filter((s) => s.clusters.length > 0 && !s.readOnly) : [];
  const refusal = withClusters.length > 0 && withClusters.every((s) => s.planRefusal) ? withClusters[0]?.planRefusal : undefined;
  const readOnlyOnly =
    defaults.ok && withClusters.length === 0 && defaults.data.subscriptions.some((s) => s.readOnly && s.clusters.length > 0);
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-brand-900">New onboarding</h1>
        <p className="text-slate-600">Choose what to onboard. The next page shows every change before anything happens.</p>
      </div>
      {defaults.ok ? (
        refusal ? (
          <Notice tone="info" title="You can't start an onboarding">
            <p>{refusal.message}</p>
          </Notice>
        ) : withClusters.length > 0 ? (
          <NewRunForm defaults={defaults.data} />
        ) : readOnlyOnly ? (
          <Notice tone="info" title="No AKS clusters to onboard">
            <p>Your AKS clusters are only in disabled (read-only) subscriptions. {READ_ONLY_ADVICE}</p>
          </Notice>
        ) : (
          <Notice tone="info" title="No AKS clusters to onboard">
            <p>None of the subscriptions you can see has an AKS cluster.</p>
          </Notice>
        )
      ) : (
        <Notice tone="error" title="Your Azure estate could not be read">
          <p>{defaults.message}</p>
        </Notice>
      )}
    </div>
  );
}
