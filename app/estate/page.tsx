import type { Metadata } from "next";
import { Suspense } from "react";
import { EstateView } from "@/components/estate/estate-view";
import { EstateSkeleton } from "@/components/estate/estate-skeleton";
import { requireSession } from "@/lib/auth/session";

export const metadata: Metadata = { title: "Your Azure estate" };

export default async function EstatePage() {
  const session = await requireSession("/estate");
  return (
    <div className="space-y-6">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight text-brand-900">Your Azure estate</h1>
        <p className="text-slate-600">
          What {session.user.upn} can see, read live from Azure with your own permissions.
        </p>
      </div>
      <Suspense fallback={<EstateSkeleton />}>
        <EstateView session={session} />
      </Suspense>
    </div>
  );
}
