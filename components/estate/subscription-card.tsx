// One subscription: whether the admin can grant roles there, and its clusters by region.
import type { EstateSubscription } from "@/lib/estate/load-estate";
import { RegionLabel } from "@/components/ui/region-label";
import { maskId, maskText } from "@/lib/presenter";

/** One subscription's card; in presenter mode its id is masked everywhere in the markup, element ids and keys included. */
export function SubscriptionCard({ subscription: s, presenter = false }: { subscription: EstateSubscription; presenter?: boolean }) {
  const headingId = `sub-${presenter ? maskId(s.id).replace(/\W/g, "") : s.id}`;
  const shown = presenter ? maskText : (text: string) => text;
  return (
    <section aria-labelledby={headingId} className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex flex-wrap items-start justify-between gap-3 border-b border-slate-100 px-5 py-4">
        <div>
          <h2 id={headingId} className="text-lg font-semibold text-slate-900">
            {s.displayName}
          </h2>
          <p className="font-mono text-xs text-slate-500">{presenter ? maskId(s.id) : s.id}</p>
        </div>
        <RoleAssignmentBadge rights={s.roleAssignments} shown={shown} />
      </header>
      <div className="px-5 py-4">
        {s.clustersError ? (
          <p role="alert" className="text-sm text-red-700">
            {shown(s.clustersError)}
          </p>
        ) : s.clusterCount === 0 ? (
          <p className="text-sm text-slate-600">No AKS clusters in this subscription.</p>
        ) : (
          <div className="space-y-5">
            {s.regions.map((r) => (
              <div key={r.location}>
                <h3 className="mb-2 text-sm font-semibold text-slate-700">
                  <RegionLabel location={r.location} /> · {r.clusters.length} {r.clusters.length === 1 ? "cluster" : "clusters"}
                </h3>
                <table className="w-full table-fixed text-left text-sm">
                  <caption className="sr-only">AKS clusters in {r.location}</caption>
                  <thead className="text-xs uppercase text-slate-500">
                    <tr>
                      <th scope="col" className="w-[30%] py-1 pr-4 font-medium">
                        Cluster
                      </th>
                      <th scope="col" className="w-[35%] py-1 pr-4 font-medium">
                        Resource group
                      </th>
                      <th scope="col" className="w-[17%] py-1 pr-4 font-medium">
                        Kubernetes
                      </th>
                      <th scope="col" className="py-1 font-medium">
                        Azure RBAC
                      </th>
                    </tr>
                  </thead>
                  <tbody className="divide-y divide-slate-100">
                    {r.clusters.map((c, i) => (
                      <tr key={presenter ? i : c.id}>
                        <th scope="row" className="py-2 pr-4 font-medium text-slate-900">
                          {c.name}
                        </th>
                        <td className="py-2 pr-4 text-slate-600">{c.resourceGroup}</td>
                        <td className="py-2 pr-4 text-slate-600">{c.kubernetesVersion ?? "—"}</td>
                        <td className="py-2 text-slate-600">{c.azureRbac ? "On" : "Off"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ))}
          </div>
        )}
      </div>
    </section>
  );
}

function RoleAssignmentBadge({ rights, shown }: { rights: EstateSubscription["roleAssignments"]; shown: (text: string) => string }) {
  if (rights.status === "allowed") {
    return (
      <p className="rounded-full bg-emerald-50 px-3 py-1 text-sm text-emerald-800">
        You can create role assignments here ({rights.via.join(", ")})
      </p>
    );
  }
  if (rights.status === "denied") {
    return (
      <p className="max-w-sm rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900">
        You can&apos;t create role assignments in this subscription. An Owner, User Access Administrator or Role Based Access Control
        Administrator must run the role steps.
      </p>
    );
  }
  return <p className="max-w-sm rounded-md bg-slate-100 px-3 py-2 text-sm text-slate-700">{shown(rights.message)}</p>;
}
