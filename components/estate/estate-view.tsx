// The estate: one card per subscription, with clusters grouped by region.
import type { SessionWithUser } from "@/lib/db/sessions";
import { loadEstate } from "@/lib/estate/load-estate";
import { Notice } from "@/components/ui/notice";
import { maskText } from "@/lib/presenter";
import { SubscriptionCard } from "./subscription-card";

/** The estate of the session's user; in presenter mode subscription ids are masked. */
export async function EstateView({ session, presenter = false }: { session: SessionWithUser; presenter?: boolean }) {
  const estate = await loadEstate(session);
  if (!estate.ok) {
    return (
      <Notice tone="error" title="Your Azure estate could not be read">
        <p>{presenter ? maskText(estate.message) : estate.message}</p>
        <p className="mt-3">
          {estate.code === "reauth_required" ? (
            <a className="font-medium underline" href="/auth/sign-in?returnTo=%2Festate">
              Sign in again
            </a>
          ) : (
            <a className="font-medium underline" href="/estate">
              Retry
            </a>
          )}
        </p>
      </Notice>
    );
  }
  const { subscriptions } = estate;
  if (subscriptions.length === 0) {
    return (
      <Notice tone="info" title="No subscriptions visible">
        <p>
          Your account can&apos;t see any Azure subscription in this tenant. Ask a subscription Owner to give you at least the Reader role,
          or sign in with another account.
        </p>
      </Notice>
    );
  }
  const clusters = subscriptions.reduce((n, s) => n + s.clusterCount, 0);
  const regions = new Set(subscriptions.flatMap((s) => s.regions.map((r) => r.location))).size;
  return (
    <div className="space-y-6">
      <p role="status" className="text-slate-700">
        {plural(subscriptions.length, "subscription")}, {plural(clusters, "AKS cluster")} in {plural(regions, "region")}
      </p>
      {subscriptions.map((s, i) => (
        <SubscriptionCard key={presenter ? i : s.id} subscription={s} presenter={presenter} />
      ))}
    </div>
  );
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}
