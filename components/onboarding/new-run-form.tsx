"use client";
// The admin's choices: subscriptions and clusters (all preselected), one audit account per region, options.
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState, useTransition } from "react";
import { checkStorageNameAction, createRunAction } from "@/app/onboarding/actions";
import type { NewRunDefaults, StorageNameStatus } from "@/lib/onboarding/new-run";
import { RegionLabel } from "@/components/ui/region-label";

type StorageRow = NewRunDefaults["regions"][number];
type NameCheck = { status: StorageNameStatus | "checking" | "error"; message: string };

export function NewRunForm({ defaults }: { defaults: NewRunDefaults }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [subs, setSubs] = useState(() => new Set(defaults.subscriptions.map((s) => s.id)));
  const [clusters, setClusters] = useState(() => new Set(defaults.subscriptions.flatMap((s) => s.clusters.map((c) => c.id))));
  const [storage, setStorage] = useState<StorageRow[]>(defaults.regions);
  const [checks, setChecks] = useState<Record<string, NameCheck>>({});
  const [restrictNetwork, setRestrictNetwork] = useState(false);
  const [retentionDays, setRetentionDays] = useState("30");
  const [secretLifetimeDays, setSecretLifetimeDays] = useState("180");
  const [error, setError] = useState<{ message: string; fieldErrors?: Record<string, string[] | undefined> } | null>(null);

  const selectedClusters = useMemo(
    () => defaults.subscriptions.filter((s) => subs.has(s.id)).flatMap((s) => s.clusters.filter((c) => clusters.has(c.id))),
    [defaults.subscriptions, subs, clusters],
  );
  const regionsInUse = useMemo(() => new Set(selectedClusters.map((c) => c.location)), [selectedClusters]);
  const storageInUse = storage.filter((s) => regionsInUse.has(s.region));

  // Validate each proposed account name live (debounced), as the admin types or switches subscription.
  useEffect(() => {
    const timers = storageInUse.map((row) =>
      setTimeout(() => {
        setChecks((c) => ({ ...c, [row.region]: { status: "checking", message: "Checking…" } }));
        void checkStorageNameAction({ subscriptionId: row.subscriptionId, resourceGroup: row.resourceGroup, accountName: row.accountName }).then(
          (result) =>
            setChecks((c) => ({
              ...c,
              [row.region]: result.ok ? result.data : { status: "error", message: result.fieldErrors?.accountName?.[0] ?? result.message },
            })),
        );
      }, 400),
    );
    return () => timers.forEach(clearTimeout);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- re-check only when a row's inputs change
  }, [JSON.stringify(storageInUse)]);

  function toggle(set: Set<string>, id: string, on: boolean): Set<string> {
    const next = new Set(set);
    if (on) next.add(id);
    else next.delete(id);
    return next;
  }

  function updateRow(region: string, patch: Partial<StorageRow>) {
    setStorage((rows) => rows.map((r) => (r.region === region ? { ...r, ...patch } : r)));
  }

  function submit(event: React.FormEvent) {
    event.preventDefault();
    setError(null);
    startTransition(async () => {
      const result = await createRunAction({
        subscriptionIds: [...subs],
        clusterIds: selectedClusters.map((c) => c.id),
        storage: storageInUse,
        restrictNetwork,
        retentionDays: Number(retentionDays),
        secretLifetimeDays: Number(secretLifetimeDays),
      });
      if (result.ok) router.push(`/onboarding/${result.data.runId}/plan`);
      else setError({ message: result.message, fieldErrors: result.fieldErrors });
    });
  }

  const fieldError = (name: string) => error?.fieldErrors?.[name]?.[0];

  return (
    <form onSubmit={submit} className="space-y-8" noValidate>
      <fieldset className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <legend className="px-1 text-lg font-semibold text-slate-900">Clusters to onboard</legend>
        <p className="mb-4 text-sm text-slate-600">All clusters you can see are selected. Each sends only its kube-audit log.</p>
        <div className="space-y-4">
          {defaults.subscriptions.map((s) => (
            <div key={s.id}>
              <label className="flex items-center gap-2 font-medium">
                <input type="checkbox" checked={subs.has(s.id)} onChange={(e) => setSubs(toggle(subs, s.id, e.target.checked))} />
                {s.displayName}
                {s.canAssignRoles === false ? (
                  <span className="text-xs font-normal text-amber-800">(you can&apos;t create role assignments here: another admin will finish step 5)</span>
                ) : null}
              </label>
              <ul className="mt-2 ml-6 grid gap-1 sm:grid-cols-2">
                {s.clusters.map((c) => (
                  <li key={c.id}>
                    <label className="flex items-center gap-2 text-sm">
                      <input
                        type="checkbox"
                        disabled={!subs.has(s.id)}
                        checked={subs.has(s.id) && clusters.has(c.id)}
                        onChange={(e) => setClusters(toggle(clusters, c.id, e.target.checked))}
                      />
                      {c.name} <span className="text-slate-500">· <RegionLabel location={c.location} /></span>
                    </label>
                  </li>
                ))}
              </ul>
            </div>
          ))}
        </div>
        {fieldError("clusterIds") ? <p className="mt-2 text-sm text-red-700">{fieldError("clusterIds")}</p> : null}
      </fieldset>

      <fieldset className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <legend className="px-1 text-lg font-semibold text-slate-900">Audit log storage</legend>
        <p className="mb-4 text-sm text-slate-600">
          Azure Monitor writes a cluster&apos;s logs only to a storage account in the cluster&apos;s own region, so there is one per region.
        </p>
        <div className="space-y-5">
          {storageInUse.map((row, index) => {
            const check = checks[row.region];
            const nameId = `storage-${row.region}-name`;
            const rowError = fieldError(`storage.${index}.region`) ?? fieldError(`storage.${index}.subscriptionId`) ?? fieldError(`storage.${index}.resourceGroup`) ?? fieldError(`storage.${index}.accountName`);
            return (
              <div key={row.region} className="grid gap-3 sm:grid-cols-3">
                <h3 className="sm:col-span-3 text-sm font-semibold text-slate-700">
                  <RegionLabel location={row.region} />
                </h3>
                <label className="text-sm">
                  <span className="mb-1 block text-slate-700">Storage account name for {row.region}</span>
                  <input
                    id={nameId}
                    className="w-full rounded border border-slate-300 px-2 py-1.5 font-mono"
                    value={row.accountName}
                    aria-describedby={`${nameId}-status`}
                    onChange={(e) => updateRow(row.region, { accountName: e.target.value.trim().toLowerCase() })}
                  />
                </label>
                <label className="text-sm">
                  <span className="mb-1 block text-slate-700">Subscription for {row.region}</span>
                  <select
                    className="w-full rounded border border-slate-300 px-2 py-1.5"
                    value={row.subscriptionId}
                    onChange={(e) => updateRow(row.region, { subscriptionId: e.target.value })}
                  >
                    {defaults.subscriptions
                      .filter((s) => subs.has(s.id))
                      .map((s) => (
                        <option key={s.id} value={s.id}>
                          {s.displayName}
                        </option>
                      ))}
                  </select>
                </label>
                <label className="text-sm">
                  <span className="mb-1 block text-slate-700">Resource group for {row.region}</span>
                  <input
                    className="w-full rounded border border-slate-300 px-2 py-1.5"
                    value={row.resourceGroup}
                    onChange={(e) => updateRow(row.region, { resourceGroup: e.target.value })}
                  />
                </label>
                <p id={`${nameId}-status`} role="status" className={`sm:col-span-3 text-sm ${rowError ? "text-red-700" : nameTone(check?.status)}`}>
                  {rowError ?? check?.message ?? ""}
                </p>
              </div>
            );
          })}
        </div>
      </fieldset>

      <fieldset className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <legend className="px-1 text-lg font-semibold text-slate-900">Options</legend>
        <div className="grid gap-4 sm:grid-cols-2">
          <label className="text-sm">
            <span className="mb-1 block text-slate-700">Keep audit logs for (days)</span>
            <input
              type="number"
              min={7}
              max={3650}
              className="w-40 rounded border border-slate-300 px-2 py-1.5"
              value={retentionDays}
              onChange={(e) => setRetentionDays(e.target.value)}
              aria-invalid={Boolean(fieldError("retentionDays"))}
            />
            {fieldError("retentionDays") ? <span className="mt-1 block text-red-700">Retention {fieldError("retentionDays")}</span> : null}
          </label>
          <label className="text-sm">
            <span className="mb-1 block text-slate-700">Client secret lifetime (days)</span>
            <input
              type="number"
              min={1}
              max={730}
              className="w-40 rounded border border-slate-300 px-2 py-1.5"
              value={secretLifetimeDays}
              onChange={(e) => setSecretLifetimeDays(e.target.value)}
              aria-invalid={Boolean(fieldError("secretLifetimeDays"))}
            />
            {fieldError("secretLifetimeDays") ? <span className="mt-1 block text-red-700">Lifetime {fieldError("secretLifetimeDays")}</span> : null}
          </label>
          <label className="flex items-start gap-2 text-sm sm:col-span-2">
            <input
              type="checkbox"
              className="mt-1"
              checked={restrictNetwork}
              disabled={!defaults.restrictNetworkAvailable}
              onChange={(e) => setRestrictNetwork(e.target.checked)}
            />
            <span>
              Restrict network access to the vendor&apos;s IP addresses
              <span className="block text-slate-500">
                {defaults.restrictNetworkAvailable
                  ? `Allows ${defaults.egressIps.join(", ")} and trusted Azure services (Azure Monitor must still write).`
                  : "Not available: the vendor's egress IPs are not configured in this portal."}
              </span>
            </span>
          </label>
        </div>
      </fieldset>

      {error ? (
        <p role="alert" className="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-900">
          {error.message}
        </p>
      ) : null}
      <div className="flex items-center gap-4">
        <button
          type="submit"
          disabled={pending || selectedClusters.length === 0}
          className="rounded-md bg-brand-600 px-5 py-2.5 font-medium text-white shadow-sm hover:bg-brand-700 disabled:opacity-50"
        >
          {pending ? "Reading Azure and preparing the plan…" : "Review the plan"}
        </button>
        <p className="text-sm text-slate-600">
          {selectedClusters.length} clusters in {regionsInUse.size} regions. Nothing changes in Azure until you confirm the plan.
        </p>
      </div>
    </form>
  );
}

function nameTone(status: NameCheck["status"] | undefined): string {
  if (status === "available" || status === "yours") return "text-emerald-700";
  if (status === "taken" || status === "invalid" || status === "error") return "text-red-700";
  return "text-slate-500";
}
