import type { Metadata } from "next";
import Link from "next/link";
import { Suspense } from "react";
import { EstateView } from "@/components/estate/estate-view";
import { RecentRuns } from "@/components/onboarding/recent-runs";
import { EstateSkeleton } from "@/components/estate/estate-skeleton";
import { redirect } from "next/navigation";
import { isPresenterMode, requireSession } from "@/lib/auth/session";
import { isVendorStaff } from "@/lib/vendor-view/access";

export const metadata: Metadata = { title: "Your Azure estate" };

export default async function EstatePage() {
  const session = await requireSession("/estate");
  // Vendor staff have no estate here (no subscriptions in the vendor tenant): their landing page is the vendor view.
  if (isVendorStaff(session)) redirect("/vendor");
  const presenter = await isPresenterMode();
  return (
    <div className="space-y-6">
      <div className="flex flex-wrap items-end justify-between gap-4">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight text-brand-900">Your Azure estate</h1>
          <p className="text-slate-600">What {session.user.upn} can see, read live from Azure with your own permissions.</p>
        </div>
        <Link href="/onboarding/new" className="rounded-md bg-brand-600 px-4 py-2 font-medium text-white shadow-sm hover:bg-brand-700">
          Start onboarding
        </Link>
      </div>
      <RecentRuns tenantId={session.user.tenantId} />
      <p className="text-sm text-slate-600">
        Everything the portal did in this tenant, hash-chained for <code>npm run audit:verify</code>:{" "}
        <a href="/audit?format=jsonl" className="text-brand-700 underline">
          audit trail as JSON Lines
        </a>{" "}
        or{" "}
        <a href="/audit?format=csv" className="text-brand-700 underline">
          CSV
        </a>
        .
      </p>
      <Suspense fallback={<EstateSkeleton />}>
        <EstateView session={session} presenter={presenter} />
      </Suspense>
    </div>
  );
}
