// Where a region's audit account goes by default, without Azure: least friction first, then most clusters there.
import { describe, expect, it } from "vitest";
import { defaultStorageSubscription, isReadOnlyState, nameCheckSubscription, type StorageHome } from "./storage-defaults";

const home = (id: string, over: Partial<StorageHome> = {}, locations: string[] = []): StorageHome => ({
  id,
  displayName: id,
  readOnly: false,
  storageRegistered: true,
  canCreateStorage: true,
  clusters: locations.map((location) => ({ location })),
  ...over,
});

describe("defaultStorageSubscription", () => {
  it("takes the subscription with the most clusters in the region when all are equally ready", () => {
    expect(defaultStorageSubscription("eastus", [home("a", {}, ["eastus"]), home("b", {}, ["eastus", "eastus", "westeurope"])])).toBe("b");
  });

  it("prefers a registered subscription the admin can write to over one with more clusters but no Microsoft.Storage", () => {
    const aksOnly = home("aks", { storageRegistered: false }, ["eastus", "eastus", "eastus"]);
    const shared = home("shared", {}, ["westeurope"]);
    expect(defaultStorageSubscription("eastus", [aksOnly, shared])).toBe("shared");
  });

  it("prefers a writable unregistered subscription (the plan registers it) over a registered one the admin can't write to", () => {
    const readerOnly = home("reader", { canCreateStorage: false }, ["eastus", "eastus"]);
    const unregistered = home("unregistered", { storageRegistered: false }, ["eastus"]);
    expect(defaultStorageSubscription("eastus", [readerOnly, unregistered])).toBe("unregistered");
  });

  it("falls back to most clusters when nothing is registered, and never picks a read-only subscription", () => {
    const disabled = home("disabled", { readOnly: true }, ["eastus", "eastus", "eastus"]);
    const few = home("few", { storageRegistered: false }, ["eastus"]);
    const many = home("many", { storageRegistered: false }, ["eastus", "eastus"]);
    expect(defaultStorageSubscription("eastus", [disabled, few, many])).toBe("many");
    expect(defaultStorageSubscription("eastus", [disabled])).toBeUndefined();
  });

  it("breaks ties by name and matches regions case-insensitively", () => {
    expect(defaultStorageSubscription("EastUS", [home("b", {}, ["eastus"]), home("a", {}, ["eastus"])])).toBe("a");
  });

  it("ranks an unreadable permission between writable and refused", () => {
    const unknown = home("unknown", { canCreateStorage: null }, ["eastus"]);
    const refused = home("refused", { canCreateStorage: false }, ["eastus", "eastus"]);
    expect(defaultStorageSubscription("eastus", [refused, unknown])).toBe("unknown");
  });
});

describe("nameCheckSubscription", () => {
  it("asks the chosen subscription when it is registered, else any registered one, else none", () => {
    const registered = home("reg");
    const unregistered = home("unreg", { storageRegistered: false });
    expect(nameCheckSubscription("reg", [unregistered, registered])).toBe("reg");
    expect(nameCheckSubscription("unreg", [unregistered, registered])).toBe("reg");
    expect(nameCheckSubscription("unreg", [unregistered, home("off", { readOnly: true })])).toBeUndefined();
  });
});

describe("isReadOnlyState", () => {
  it("treats Disabled and Deleted as read-only, Warned and PastDue as usable", () => {
    expect(["Disabled", "Deleted", "Enabled", "Warned", "PastDue"].map(isReadOnlyState)).toEqual([true, true, false, false, false]);
  });
});
