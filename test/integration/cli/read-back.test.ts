// Read-back with a client we didn't write: after a portal run against the simulator, Debian's Azure CLI (az 2.45),
// signed in as a read-only service principal, reads what the portal created and finds the expected values.
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOG_ANALYTICS_DATA_READ_ROLE_ID, WELL_KNOWN_APPS, type ArmResource } from "../../../simulator/src/contract";
import type { RunningSimulator } from "../../../simulator/src/index";
import { DEFAULT_SCENARIO } from "../../../simulator/src/testing";
import { OWNER, SUB_DEV, SUB_PROD, TENANT } from "../azure/support";
import { confirmedRun, driveRun, FAST_LATENCY, portalFixture } from "../portal-fixture";
import { defaultRunConfig } from "../steps/context";
import { azSignedIn, type AzSession } from "../../../scripts/az-simulator";

/** A read-only service principal for az: Reader on both subscriptions, Directory Readers in Entra. */
const READER = {
  appId: "5d8a3c1e-0b7f-4a2d-9e6c-3f1b2a4c5d6e",
  objectId: "6e9b4d2f-1c8a-4b3e-8f7d-4a2c3b5d6e7f",
  applicationObjectId: "7fac5e3a-2d9b-4c4f-9a8e-5b3d4c6e7f8a",
  displayName: "Azure CLI read-back",
  secret: "cli-read-back-secret-7f3a9c1e5b",
  directoryRoles: ["Directory Readers"],
  subscriptionRoles: { [SUB_PROD]: ["Reader"], [SUB_DEV]: ["Reader"] },
  graphAppRoles: [],
};
const scenario = { ...(JSON.parse(fs.readFileSync(DEFAULT_SCENARIO, "utf8")) as Record<string, unknown>), servicePrincipals: [READER] };

let sim: RunningSimulator;
const { tokensOf } = portalFixture("cli-read-back", { blob: true, latency: FAST_LATENCY, scenario }, (started) => (sim = started));
const tokens = tokensOf(OWNER);
let az: AzSession;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- az's JSON output, navigated by the assertions
type Json = any;

const armOfType = (type: string): ArmResource[] => [...sim.state().arm.values()].filter((r) => r.type.toLowerCase() === type.toLowerCase());

beforeAll(async () => {
  expect(await driveRun(await confirmedRun(tokens), tokens)).toEqual({ outcome: "completed" });
  az = await azSignedIn(sim, { appId: READER.appId, secret: READER.secret, tenantId: TENANT });
}, 180_000);

afterAll(async () => {
  if (!az) return;
  console.log(`az commands (ms): ${az.runs.map((r) => `${r.args.slice(0, 3).join(" ")} ${r.ms}`).join("; ")}`);
  await az.close();
});

describe("az reads back what the portal created", () => {
  it("az storage account show: each audit account with the portal's settings", async () => {
    const config = defaultRunConfig();
    for (const s of config.storage) {
      const sim = armOfType("Microsoft.Storage/storageAccounts").find((r) => r.name === s.accountName);
      expect(sim, s.accountName).toBeDefined();
      const shown: Json = await az.json(["storage", "account", "show", "--ids", sim?.id ?? ""]);
      expect(shown).toMatchObject({ name: s.accountName, location: s.region, kind: "StorageV2", provisioningState: "Succeeded" });
      expect(shown.id.toLowerCase()).toBe(sim?.id.toLowerCase());
      expect(shown.sku.name).toBe("Standard_LRS");
      expect(shown.enableHttpsTrafficOnly).toBe(true);
      expect(shown.minimumTlsVersion).toBe("TLS1_2");
      expect(shown.allowBlobPublicAccess).toBe(false);
      expect(shown.tags).toEqual(sim?.tags);
    }
  }, 60_000);

  it("az monitor diagnostic-settings list: every selected cluster sends kube-audit to its region's account", async () => {
    const config = defaultRunConfig();
    for (const c of config.clusters) {
      const listed: Json = await az.json(["monitor", "diagnostic-settings", "list", "--resource", c.id]);
      const settings: Json[] = Array.isArray(listed) ? listed : listed.value;
      const account = config.storage.find((s) => s.region === c.location)?.accountName ?? "";
      const ours = settings.find((x: Json) =>
        String(x.storageAccountId ?? "")
          .toLowerCase()
          .endsWith(`/storageaccounts/${account}`),
      );
      expect(ours, `${c.id}: ${JSON.stringify(settings)}`).toBeDefined();
      const logs: Json[] = ours.logs;
      expect(logs.filter((l) => l.enabled).map((l) => l.category ?? l.categoryGroup)).toContain("kube-audit");
    }
  }, 60_000);

  // Debian's az 2.45 crashes in `az role assignment list` whenever it finds an assignment ('RoleDefinitionsOperations'
  // object has no attribute 'config': its azure-mgmt-authorization is newer than the CLI expects, Azure/azure-cli#20546).
  // Then the same list is read with `az rest`, sending the request az 2.45 sends
  // (role/custom.py _search_role_assignments: $filter=principalId eq '…', api-version 2020-04-01-preview).
  it("az role assignment list --assignee <app>: the portal's assignments, names, scopes and conditions", async () => {
    const app = sim.state().graph.applications.find((a) => a.uniqueName === defaultRunConfig().vendor.appUniqueName);
    expect(app).toBeDefined();
    const sp = sim.state().graph.servicePrincipals.find((s) => s.appId === app?.appId);
    const expected = armOfType("Microsoft.Authorization/roleAssignments")
      .filter((r) => String(r.properties.principalId).toLowerCase() === String(sp?.id).toLowerCase())
      .map((r) => ({ name: r.name, scope: String(r.properties.scope).toLowerCase(), condition: r.properties.condition ?? null }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(expected.length).toBeGreaterThan(0);
    const listed: Json[] = [];
    for (const sub of [SUB_PROD, SUB_DEV]) {
      try {
        listed.push(
          ...((await az.json(["role", "assignment", "list", "--assignee", String(app?.appId), "--all", "--subscription", sub])) as Json[]),
        );
      } catch (error) {
        if (!/'RoleDefinitionsOperations' object has no attribute 'config'/.test(String(error))) throw error;
        const filter = encodeURIComponent(`principalId eq '${String(sp?.id)}'`);
        const url = `${sim.url}/subscriptions/${sub}/providers/Microsoft.Authorization/roleAssignments?$filter=${filter}&api-version=2020-04-01-preview`;
        const page: Json = await az.json(["rest", "--method", "get", "--url", url, "--resource", "https://management.core.windows.net/"]);
        listed.push(...(page.value as Json[]).map((a) => ({ name: a.name, ...a.properties })));
      }
    }
    const seen = [...new Map(listed.map((a) => [a.name, a])).values()]
      .map((a) => ({ name: a.name, scope: String(a.scope).toLowerCase(), condition: a.condition ?? null }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(seen).toEqual(expected);
    for (const a of listed) {
      expect(a.principalType).toBe("ServicePrincipal");
      expect(a.principalId.toLowerCase()).toBe(String(sp?.id).toLowerCase());
    }
  }, 90_000);

  it("az ad app show: the app registration with the Log Analytics Data.Read permission", async () => {
    const vendor = defaultRunConfig().vendor;
    const app = sim.state().graph.applications.find((a) => a.uniqueName === vendor.appUniqueName);
    const shown: Json = await az.json(["ad", "app", "show", "--id", String(app?.appId)]);
    expect(shown).toMatchObject({ appId: app?.appId, id: app?.id, displayName: vendor.appDisplayName, signInAudience: "AzureADMyOrg" });
    expect(shown.requiredResourceAccess).toEqual(app?.requiredResourceAccess);
    expect(shown.requiredResourceAccess).toContainEqual({
      resourceAppId: WELL_KNOWN_APPS.logAnalyticsApi,
      resourceAccess: [{ id: LOG_ANALYTICS_DATA_READ_ROLE_ID, type: "Role" }],
    });
    expect(shown.passwordCredentials.map((p: Json) => p.secretText ?? null)).toEqual(shown.passwordCredentials.map(() => null));
  }, 30_000);
});
