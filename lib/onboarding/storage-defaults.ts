// Where each region's audit account goes by default: pure rules shared by the server defaults and the form.

/** What the form knows about a subscription as a home for an audit account. */
export interface StorageHome {
  id: string;
  displayName: string;
  /** Azure lists it as Disabled/Deleted/Expired: reads only, every write answers 409 ReadOnlyDisabledSubscription. */
  readOnly: boolean;
  /** Microsoft.Storage registered; null when it could not be read. */
  storageRegistered: boolean | null;
  /** The admin holds resourceGroups/write and storageAccounts/write there; null when it could not be read. */
  canCreateStorage: boolean | null;
  clusters: readonly { location: string }[];
}

/** Subscription states Azure allows no writes in (learn.microsoft.com cost-management-billing/manage/subscription-states). */
export function isReadOnlyState(state: string): boolean {
  return ["disabled", "deleted", "expired"].includes(state.toLowerCase());
}

/** Who can make a read-only subscription writable again (learn.microsoft.com cost-management-billing/manage/subscription-disabled). */
export const READ_ONLY_ADVICE =
  "Azure refuses every write there until it is re-enabled: its Account Administrator (the billing owner) can reactivate it in the Azure portal under Subscriptions.";

/** 0 = registered and writable, 1 = writable (the plan registers Microsoft.Storage), 2 = unknown, 3 = the admin can't write. */
function friction(s: StorageHome): number {
  if (s.canCreateStorage === false) return 3;
  if (s.canCreateStorage === null) return 2;
  return s.storageRegistered === true ? 0 : 1;
}

/**
 * The subscription for `region`'s account among `candidates`: least friction first (Microsoft.Storage registered and the
 * admin can create storage), then most clusters in the region, then by name. Never a read-only subscription.
 */
export function defaultStorageSubscription(region: string, candidates: readonly StorageHome[]): string | undefined {
  const here = (s: StorageHome) => s.clusters.filter((c) => c.location.toLowerCase() === region.toLowerCase()).length;
  const best = candidates
    .filter((s) => !s.readOnly)
    .sort((a, b) => friction(a) - friction(b) || here(b) - here(a) || a.displayName.localeCompare(b.displayName))[0];
  return best?.id;
}

/** A subscription that can answer a storage name check now (names are global): the preferred one if it can, else any. */
export function nameCheckSubscription(preferred: string, candidates: readonly StorageHome[]): string | undefined {
  const able = candidates.filter((s) => !s.readOnly && s.storageRegistered === true);
  return able.find((s) => s.id.toLowerCase() === preferred.toLowerCase())?.id ?? able[0]?.id;
}
