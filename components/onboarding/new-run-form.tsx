"use client";
// The admin's choices: subscriptions and clusters (all preselected), one audit account per region, options.
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState, useTransition } from "react";
import { checkStorageNameAction, createRunAction } from "@/app/onboarding/actions";
import type { NewRunDefaults, StorageNameStatus } from "@/lib/onboarding/new-run";
import { accountIdOf, blockedByLimit, sameAccountId, type ClusterPreflight, type KubeAuditExport } from "@/lib/onboarding/preflight";
import { defaultStorageSubscription, nameCheckSubscription, READ_ONLY_ADVICE } from "@/lib/onboarding/storage-defaults";
import { RegionLabel } from "@/components/ui/region-label";
import { TagsField, tagsOf, type TagRow } from "./tags-field";

type StorageRow = NewRunDefaults["regions"][number];
type NameCheck = { status: StorageNameStatus | "checking" | "error"; message: string };

export function NewRunForm({ defaults }: { defaults: NewRunDefaults }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [subs, setSubs] = useState(() => new Set(defaults.subscriptions.filter((s) => !s.readOnly).map((s) => s.id)));
  const [clusters, setClusters] = useState(() => new Set(defaults.subscriptions.flatMap((s) => s.clusters.map((c) => c.id))));
  const [storage, setStorage] = useState<StorageRow[]>(defaults.regions);
  const [checks, setChecks] = useState<Record<string, NameCheck>>({});
  const [restrictNetwork, setRestrictNetwork] = useState(false);
  // Pre-filled with the tags enforced deny policies require where the defaults create things.
  const [tagRows, setTagRows] = useState<TagRow[]>(() =>
    defaults.requiredTags.tags.map((t) => ({ name: t.name, value: t.value ?? "", requiredBy: t.assignments })),
  );
  const [retentionDays, setRetentionDays] = useState("30");
  const [secretLifetimeDays, setSecretLifetimeDays] = useState("180");
  const [error, setError] = useState<{ message: string; fieldErrors?: Record<string, string[] | undefined> } | null>(null);

  const selectedClusters = useMemo(
    () => defaults.subscriptions.filter((s) => subs.has(s.id)).flatMap((s) => s.clusters.filter((c) => clusters.has(c.id))),
    [defaults.subscriptions, subs, clusters],
  );
  const regionsInUse = useMemo(() => new Set(selectedClusters.map((c) => c.location)), [selectedClusters]);
  const selectedSubs = defaults.subscriptions.filter((s) => subs.has(s.id));
  // A row whose subscription was unticked moves to the best selected one, by the same rule as the defaults.
  const storageInUse = storage
    .filter((s) => regionsInUse.has(s.region))
    .map((row) =>
      subs.has(row.subscriptionId)
        ? row
        : { ...row, subscriptionId: defaultStorageSubscription(row.region, selectedSubs) ?? row.subscriptionId },
    );
  const rowFor = (region: string) => storageInUse.find((r) => r.region === region);
  const preflight = (id: string): ClusterPreflight | undefined => defaults.preflight[id.toLowerCase()];
  const chosenAccountId = (region: string) => {
    const row = rowFor(region);
    return row ? accountIdOf(row) : undefined;
  };
  const nameChecker = (subscriptionId: string) => nameCheckSubscription(subscriptionId, defaults.subscriptions);

  // Validate each proposed account name live (debounced), as the admin types or switches subscription.
  useEffect(() => {
    const timers = storageInUse.map((row) =>
      setTimeout(() => {
        setChecks((c) => ({ ...c, [row.region]: { status: "checking", message: "Checking…" } }));
        const hint = nameChecker(row.subscriptionId);
        void checkStorageNameAction({
          subscriptionId: row.subscriptionId,
          resourceGroup: row.resourceGroup,
          accountName: row.accountName,
          ...(hint ? { nameCheckSubscriptionId: hint } : {}),
        }).then((result) =>
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
      const hint = nameChecker(storageInUse[0]?.subscriptionId ?? "");
      const result = await createRunAction({
        subscriptionIds: [...subs],
        clusterIds: selectedClusters.map((c) => c.id),
        storage: storageInUse,
        ...(hint ? { nameCheckSubscriptionId: hint } : {}),
        restrictNetwork,
        tags: tagsOf(tagRows),
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
              <label className={`flex items-center gap-2 font-medium ${s.readOnly ? "text-slate-500" : ""}`}>
                <input
                  type="checkbox"
                  disabled={s.readOnly}
                  checked={subs.has(s.id)}
                  onChange={(e) => setSubs(toggle(subs, s.id, e.target.checked))}
                />
                {s.displayName}
                {s.readOnly ? <span className="text-xs font-normal">({s.state} in Azure: read-only)</span> : null}
                {!s.readOnly && s.canAssignRoles === false ? (
                  <span className="text-xs font-normal text-amber-800">
                    (you can&apos;t create role assignments here: another admin will finish step 5)
                  </span>
                ) : null}
              </label>
              {s.readOnly ? (
                <p className="mt-1 ml-6 text-sm text-slate-600">
                  Can&apos;t be onboarded while it is {s.state.toLowerCase()}. {READ_ONLY_ADVICE}
                </p>
              ) : null}
              <ul className="mt-2 ml-6 grid gap-1 sm:grid-cols-2">
                {s.clusters.map((c) => {
                  const selected = subs.has(s.id) && clusters.has(c.id);
                  const p = preflight(c.id);
                  const full = selected && blockedByLimit(p, chosenAccountId(c.location));
                  return (
                    <li key={c.id}>
                      <label className="flex items-center gap-2 text-sm">
                        <input
                          type="checkbox"
                          disabled={!subs.has(s.id)}
                          checked={selected}
                          onChange={(e) => setClusters(toggle(clusters, c.id, e.target.checked))}
                        />
                        {c.name}{" "}
                        <span className="text-slate-500">
                          · <RegionLabel location={c.location} />
                        </span>
                      </label>
                      {full ? (
                        <div
                          role="note"
                          aria-label={`${c.name} is at the diagnostic settings limit`}
                          className="mt-1 ml-6 rounded border border-amber-200 bg-amber-50 px-2 py-1.5 text-sm text-amber-900"
                        >
                          <p>
                            {c.name} already has {p?.settingsCount} diagnostic settings, Azure&apos;s maximum, so its kube-audit log
                            can&apos;t be sent to the vendor. Remove a setting it no longer needs (Azure portal → the cluster → Diagnostic
                            settings) and reload this page, or leave it out now and add it later with Extend.
                          </p>
                          <button
                            type="button"
                            className="mt-1 rounded border border-amber-300 bg-white px-2 py-0.5 font-medium hover:bg-amber-100"
                            aria-label={`Leave out ${c.name}`}
                            onClick={() => setClusters(toggle(clusters, c.id, false))}
                          >
                            Leave out
                          </button>
                        </div>
                      ) : null}
                      {selected && !c.entraIntegration ? (
                        <p role="note" className="mt-1 ml-6 text-sm text-slate-600">
                          No Microsoft Entra integration: the vendor gets this cluster&apos;s metadata and kube-audit log, but no kubeconfig
                          (without Entra ID a user credential is cluster-admin). Enable Microsoft Entra integration on the cluster to let
                          the vendor read it too.
                        </p>
                      ) : null}
                    </li>
                  );
                })}
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
            const home = defaults.subscriptions.find((s) => s.id === row.subscriptionId);
            const exportsHere = uniqueExports(
              selectedClusters
                .filter((c) => c.location === row.region)
                .flatMap((c) => (preflight(c.id)?.kubeAuditExports ?? []).map((exp) => ({ cluster: c.name, exp }))),
            );
            const rowError =
              fieldError(`storage.${index}.region`) ??
              fieldError(`storage.${index}.subscriptionId`) ??
              fieldError(`storage.${index}.resourceGroup`) ??
              fieldError(`storage.${index}.accountName`);
            return (
              <div key={row.region} className="grid gap-3 sm:grid-cols-3">
                {/* h2: the fieldset's legend is not a heading, so the region follows the page's h1. */}
                <h2 className="sm:col-span-3 text-sm font-semibold text-slate-700">
                  <RegionLabel location={row.region} />
                </h2>
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
                    {selectedSubs.map((s) => (
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
                <p
                  id={`${nameId}-status`}
                  role="status"
                  className={`sm:col-span-3 text-sm ${rowError ? "text-red-700" : nameTone(check?.status)}`}
                >
                  {rowError ?? check?.message ?? ""}
                </p>
                {home?.storageRegistered === false ? (
                  <p className="sm:col-span-3 text-sm text-slate-600">
                    {home.displayName} is not registered for Microsoft.Storage yet: the plan registers it before creating the account.
                  </p>
                ) : null}
                {exportsHere.map(({ cluster, exp }) => (
                  <div
                    key={`${cluster}-${exp.accountId}`}
                    role="note"
                    className="sm:col-span-3 rounded border border-sky-200 bg-sky-50 px-2 py-1.5 text-sm text-sky-900"
                  >
                    {sameAccountId(exp.accountId, accountIdOf(row)) ? (
                      <p>
                        {cluster} already sends kube-audit to {exp.accountName} (setting &apos;{exp.settingName}&apos;): that setting and
                        account are reused, so the log is stored once.
                      </p>
                    ) : (
                      <>
                        <p>
                          {cluster} already sends kube-audit to {exp.accountName} (setting &apos;{exp.settingName}&apos;). A new account
                          would receive the same log again: two exports cost twice.
                        </p>
                        {subs.has(exp.subscriptionId) ? (
                          <button
                            type="button"
                            className="mt-1 rounded border border-sky-300 bg-white px-2 py-0.5 font-medium hover:bg-sky-100"
                            onClick={() =>
                              updateRow(row.region, {
                                subscriptionId: exp.subscriptionId,
                                resourceGroup: exp.resourceGroup,
                                accountName: exp.accountName,
                              })
                            }
                          >
                            Use {exp.accountName} for {row.region}
                          </button>
                        ) : (
                          <p className="text-slate-600">Its subscription is not selected here, so it can&apos;t be chosen for this run.</p>
                        )}
                      </>
                    )}
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      </fieldset>

      <fieldset className="rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
        <legend className="px-1 text-lg font-semibold text-slate-900">Tags</legend>
        <TagsField
          rows={tagRows}
          onChange={setTagRows}
          notes={defaults.requiredTags.notes}
          error={Object.entries(error?.fieldErrors ?? {}).find(([k]) => /^(options\.)?tags(\.|$)/.test(k))?.[1]?.[0]}
        />
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
            {fieldError("secretLifetimeDays") ? (
              <span className="mt-1 block text-red-700">Lifetime {fieldError("secretLifetimeDays")}</span>
            ) : null}
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

/** One note per existing account: the first cluster that feeds it names it. */
function uniqueExports(list: { cluster: string; exp: KubeAuditExport }[]): { cluster: string; exp: KubeAuditExport }[] {
  const seen = new Set<string>();
  return list.filter(({ exp }) => {
    const key = exp.accountId.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function nameTone(status: NameCheck["status"] | undefined): string {
  if (status === "available" || status === "yours") return "text-emerald-700";
  if (status === "deferred") return "text-slate-600";
  if (status === "taken" || status === "invalid" || status === "error") return "text-red-700";
  return "text-slate-500";
}
