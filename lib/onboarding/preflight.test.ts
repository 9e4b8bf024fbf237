// A cluster at Azure's limit of diagnostic settings is flagged unless the chosen account is one its settings already feed.
import { describe, expect, it } from "vitest";
import { accountIdOf, blockedByLimit, type ClusterPreflight } from "./preflight";

const chosen = { subscriptionId: "602d1a18-a35e-4b89-a27e-56cb26da2c7b", resourceGroup: "rg-logging", accountName: "contosologs" };
const atLimit: ClusterPreflight = {
  settingsCount: 5,
  limitReached: true,
  kubeAuditExports: [{ settingName: "to-storage", accountId: accountIdOf(chosen).toUpperCase(), ...chosen }],
};

describe("blockedByLimit", () => {
  it("flags a full cluster for a new account, not when its own kube-audit setting to the chosen account is reused", () => {
    expect(blockedByLimit(atLimit, accountIdOf({ ...chosen, accountName: "kubeauditnew" }))).toBe(true);
    expect(blockedByLimit(atLimit, accountIdOf(chosen))).toBe(false);
    expect(blockedByLimit({ ...atLimit, limitReached: false }, undefined)).toBe(false);
    expect(blockedByLimit(undefined, undefined)).toBe(false);
  });
});
