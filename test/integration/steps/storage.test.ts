// The storage step against the simulated ARM: plan, apply, re-apply, verify, faults, permissions, adoption, firewall.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AzureOperationError } from "../../../lib/azure/errors";
import { getProviderRegistration } from "../../../lib/azure/get-provider-registration";
import type { RunConfig } from "../../../lib/steps/config";
import { storageStep, type StorageOutput } from "../../../lib/steps/storage";
import { suggestStorageAccountName } from "../../../lib/steps/storage-names";
import type { RunningSimulator } from "../../../simulator/src/index";
import {
  armOfType,
  armRaw,
  azureError,
  clearRequests,
  OWNER,
  READER,
  setFaults,
  setLatency,
  simRequests,
  startSimForPortal,
  SUB_DEV,
  SUB_PROD,
  TENANT,
  userCredential,
} from "../azure/support";
import { defaultRunConfig, testStepContext } from "./context";

let sim: RunningSimulator;
const EASTUS = suggestStorageAccountName(TENANT, "eastus");
const WESTEUROPE = suggestStorageAccountName(TENANT, "westeurope");
const MUTATING = ["PUT", "POST", "PATCH", "DELETE"];
// A POST that only reads: its RBAC action is Microsoft.Storage/checknameavailability/read.
const isMutating = (r: { method: string; url: string }) => MUTATING.includes(r.method) && !r.url.includes("/checkNameAvailability?");

// Registration completes at the first poll: the wait loop itself is covered by the lib/azure tests.
const FAST = { lroMs: { storageAccount: 100, providerRegistration: 0 }, replicationMs: 0 };

async function freshTenant(): Promise<void> {
  await sim.reset();
  await setLatency(sim, FAST);
}

async function accountNames(): Promise<string[]> {
  return (await armOfType(sim, "Microsoft.Storage/storageAccounts")).map((a) => String(a.name)).sort();
}

function withStorage(config: RunConfig, region: string, patch: Partial<RunConfig["storage"][number]>): RunConfig {
  return { ...config, storage: config.storage.map((s) => (s.region === region ? { ...s, ...patch } : s)) };
}

beforeAll(async () => {
  sim = await startSimForPortal();
  await setLatency(sim, FAST);
});
afterAll(async () => sim.close());

describe("storage step on the default tenant", () => {
  let output: StorageOutput;

  it("plans a registration, one resource group, two accounts and two lifecycle policies", async () => {
    const { ctx, writes } = testStepContext(sim);
    const plan = storageStep.plan(ctx, await storageStep.read(ctx));
    expect(writes).toEqual([]);
    const summary = plan.map((l) => `${l.action} ${l.resourceType}: ${l.resource}`);
    expect(summary).toEqual([
      "no-change Resource provider: Microsoft.Storage in Contoso Production",
      "no-change Resource provider: Microsoft.Insights in Contoso Production",
      "no-change Resource provider: Microsoft.Storage in Contoso Development",
      "register Resource provider: Microsoft.Insights in Contoso Development",
      "create Resource group: rg-aks-audit (Contoso Production)",
      `create Storage account: ${EASTUS} (rg-aks-audit)`,
      `create Lifecycle policy: ${EASTUS}/default`,
      `create Storage account: ${WESTEUROPE} (rg-aks-audit)`,
      `create Lifecycle policy: ${WESTEUROPE}/default`,
    ]);
    const account = plan.find((l) => l.resource.startsWith(EASTUS) && l.resourceType === "Storage account");
    expect(account?.key).toBe(
      `storage.account:/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-audit/providers/Microsoft.Storage/storageAccounts/${EASTUS}`,
    );
    expect(account?.why).toContain("cluster's region (eastus)");
    expect(account?.details).toContain("allowBlobPublicAccess: false, allowCrossTenantReplication: false");
  });

  it("applies: registers Microsoft.Insights in Contoso Development and creates the accounts with the secure baseline", async () => {
    const { ctx, writes, progress } = testStepContext(sim);
    await clearRequests(sim);
    output = await storageStep.apply(ctx, await storageStep.read(ctx));
    // The read's answers are passed down: the shared group is read once and not again before its PUT, a new account's
    // policy isn't read before its PUT, and each account's LRO is polled only after its Retry-After.
    const requests = (await simRequests(sim)).map((r) => `${r.method} ${(r.url.split("?")[0] ?? "").toLowerCase()}`);
    const count = (re: RegExp) => requests.filter((r) => re.test(r)).length;
    expect(count(/^GET \/subscriptions\/[^/]+\/resourcegroups\/rg-aks-audit$/)).toBe(1);
    expect(count(/^PUT \/subscriptions\/[^/]+\/resourcegroups\/rg-aks-audit$/)).toBe(1);
    expect(count(/^GET .*\/managementpolicies\/default$/)).toBe(0);
    expect(count(/^PUT .*\/managementpolicies\/default$/)).toBe(2);
    expect(count(/^GET .*\/asyncoperations\//)).toBe(2);
    expect(writes.map((w) => `${w.kind} ${w.status} ${w.key.split(":")[0] ?? ""}`).sort()).toEqual([
      "create succeeded storage.account",
      "create succeeded storage.account",
      "create succeeded storage.lifecycle",
      "create succeeded storage.lifecycle",
      "create succeeded storage.resource-group",
      "register succeeded storage.register",
    ]);
    expect(writes.find((w) => w.kind === "register")?.key).toBe(`storage.register:/subscriptions/${SUB_DEV}/providers/Microsoft.Insights`);
    expect((await getProviderRegistration(userCredential(sim, OWNER, "arm"), SUB_DEV, "Microsoft.Insights")).registered).toBe(true);
    expect(output.accounts).toEqual([
      expect.objectContaining({ region: "eastus", subscriptionId: SUB_PROD, resourceGroup: "rg-aks-audit", name: EASTUS, adopted: false }),
      expect.objectContaining({ region: "westeurope", name: WESTEUROPE, adopted: false }),
    ]);
    expect(output.accounts[0]?.id).toBe(
      `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-audit/providers/Microsoft.Storage/storageAccounts/${EASTUS}`,
    );
    expect(output.accounts[0]?.blobEndpoint).toContain(EASTUS);
    expect(progress.at(-1)).toEqual({ done: 2, total: 2, label: "Storage account 2 of 2" });
    const [stored] = (await armOfType(sim, "Microsoft.Storage/storageAccounts")).filter((a) => a.name === EASTUS);
    expect(stored).toMatchObject({
      kind: "StorageV2",
      location: "eastus",
      sku: { name: "Standard_LRS" },
      properties: {
        minimumTlsVersion: "TLS1_2",
        allowBlobPublicAccess: false,
        supportsHttpsTrafficOnly: true,
        allowCrossTenantReplication: false,
        isHnsEnabled: false,
      },
    });
  });

  it("applies again with zero writes, and plans everything as no-change", async () => {
    await clearRequests(sim);
    const { ctx, writes } = testStepContext(sim);
    const live = await storageStep.read(ctx);
    expect(storageStep.plan(ctx, live).filter((l) => l.action !== "no-change")).toEqual([]);
    const again = await storageStep.apply(ctx, live);
    expect(again).toEqual(output);
    expect(writes).toEqual([]);
    const mutating = (await simRequests(sim)).filter(isMutating);
    expect(mutating).toEqual([]);
  });

  it("verifies every secure property and the retention rule", async () => {
    const { ctx } = testStepContext(sim);
    const result = await storageStep.verify(ctx, output);
    expect(result).toMatchObject({ ok: true });
    if (result.ok) expect(result.checks.join("\n")).toContain(`${EASTUS} (eastus): HTTPS only, TLS TLS1_2`);
  });

  it("restricting the network later updates only the firewall: vendor IPs, deny by default, AzureServices bypass", async () => {
    const config = defaultRunConfig({ restrictNetwork: true });
    const { ctx, writes } = testStepContext(sim, { config });
    const live = await storageStep.read(ctx);
    const changes = storageStep.plan(ctx, live).filter((l) => l.action !== "no-change");
    expect(changes.map((l) => `${l.action} ${l.resourceType}: ${l.resource}`)).toEqual([
      `update Storage firewall: ${EASTUS}`,
      `update Storage firewall: ${WESTEUROPE}`,
    ]);
    expect(changes[0]?.details).toEqual(["defaultAction: Allow → Deny", "ipRules: +203.0.113.10, +198.51.100.20"]);
    await clearRequests(sim);
    const out = await storageStep.apply(ctx, live);
    expect(writes.map((w) => w.key)).toEqual(expect.arrayContaining([`storage.network:${out.accounts[0]?.id ?? ""}`]));
    expect(writes).toHaveLength(2);
    const patches = (await simRequests(sim)).filter((r) => r.method === "PATCH");
    expect(patches).toHaveLength(2);
    expect(patches[0]?.body).toMatchObject({
      properties: {
        networkAcls: { defaultAction: "Deny", bypass: "AzureServices", ipRules: [{ value: "203.0.113.10" }, { value: "198.51.100.20" }] },
      },
    });
    expect(await storageStep.verify(ctx, out)).toMatchObject({ ok: true });
    // The open config must not loosen it again.
    const open = testStepContext(sim);
    const openLive = await storageStep.read(open.ctx);
    const account = storageStep.plan(open.ctx, openLive).find((l) => l.resourceType === "Storage account");
    expect(account?.action).toBe("no-change");
    expect(account?.details?.[0]).toContain("left as they are (deny by default, 2 IP rules, bypass AzureServices)");
    await storageStep.apply(open.ctx, openLive);
    expect(open.writes).toEqual([]);
  });
});

describe("storage step with restricted network on a fresh tenant", () => {
  it("creates the accounts with the IP rules and the AzureServices bypass in the create body", async () => {
    await freshTenant();
    const config = defaultRunConfig({ restrictNetwork: true });
    const { ctx, writes } = testStepContext(sim, { config });
    const live = await storageStep.read(ctx);
    const create = storageStep.plan(ctx, live).find((l) => l.resourceType === "Storage account");
    expect(create?.details).toContain("network rules: deny by default, allow 203.0.113.10, 198.51.100.20, bypass AzureServices");
    const out = await storageStep.apply(ctx, live);
    const puts = (await simRequests(sim)).filter((r) => r.method === "PUT" && /\/storageAccounts\/[a-z0-9]+\?/.test(r.url));
    expect(puts).toHaveLength(2);
    expect(puts[0]?.body).toMatchObject({
      properties: {
        networkAcls: {
          defaultAction: "Deny",
          bypass: "AzureServices",
          ipRules: [
            { value: "203.0.113.10", action: "Allow" },
            { value: "198.51.100.20", action: "Allow" },
          ],
        },
      },
    });
    expect(writes.filter((w) => w.key.startsWith("storage.network:"))).toEqual([]);
    expect(await storageStep.verify(ctx, out)).toMatchObject({ ok: true });
  });
});

describe("storage step under injected faults", () => {
  it("completes by retrying read+apply, without duplicate accounts", async () => {
    await freshTenant();
    await clearRequests(sim);
    await setFaults(sim, { rate: 0.2, kinds: ["429", "500", "503"], seed: 7 });
    const { ctx, writes } = testStepContext(sim);
    let output: StorageOutput | undefined;
    try {
      for (let attempt = 0; attempt < 8 && !output; attempt++) {
        try {
          output = await storageStep.apply(ctx, await storageStep.read(ctx));
        } catch (error) {
          expect(error).toBeInstanceOf(AzureOperationError);
        }
      }
    } finally {
      await setFaults(sim, { rate: 0 });
    }
    expect((await simRequests(sim)).filter((r) => [429, 500, 503].includes(r.status)).length).toBeGreaterThan(0);
    expect(output?.accounts.map((a) => a.name)).toEqual([EASTUS, WESTEUROPE]);
    expect(await accountNames()).toEqual([EASTUS, WESTEUROPE].sort());
    expect((await armOfType(sim, "Microsoft.Resources/resourceGroups")).filter((g) => g.name === "rg-aks-audit")).toHaveLength(1);
    expect(await armOfType(sim, "Microsoft.Storage/storageAccounts/managementPolicies")).toHaveLength(2);
    // Each account was created by at most one successful write, whatever failed around it.
    expect(writes.filter((w) => w.key.startsWith("storage.account:") && w.status === "succeeded")).toHaveLength(2);
    expect(await storageStep.verify(ctx, output as StorageOutput)).toMatchObject({ ok: true });
  });
});

describe("storage step resumed after a crash", () => {
  it("a run cut off after the first account picks up from the live state without re-creating it", async () => {
    await freshTenant();
    const crashing = testStepContext(sim);
    const write = crashing.ctx.write.bind(crashing.ctx);
    crashing.ctx.write = async (op, fn, idOf) => {
      const result = await write(op, fn, idOf);
      if (op.key.startsWith("storage.account:")) throw new Error("process killed");
      return result;
    };
    await expect(storageStep.apply(crashing.ctx, await storageStep.read(crashing.ctx))).rejects.toThrow("process killed");
    const created = crashing.writes.filter((w) => w.key.startsWith("storage.account:") && w.status === "succeeded").length;
    expect(created).toBeGreaterThan(0);

    const { ctx, writes } = testStepContext(sim);
    const live = await storageStep.read(ctx);
    expect(
      storageStep
        .plan(ctx, live)
        .filter((l) => l.resourceType === "Storage account")
        .map((l) => l.action),
    ).toEqual(live.regions.map((r) => (r.account ? "no-change" : "create")));
    const out = await storageStep.apply(ctx, live);
    expect(writes.filter((w) => w.key.startsWith("storage.account:"))).toHaveLength(2 - created);
    expect(await accountNames()).toEqual([EASTUS, WESTEUROPE].sort());
    expect(await storageStep.verify(ctx, out)).toMatchObject({ ok: true });
  });
});

describe("storage step refusals", () => {
  it("tells a Reader which role is missing and creates nothing", async () => {
    await freshTenant();
    const { ctx, writes } = testStepContext(sim, { upn: READER });
    const live = await storageStep.read(ctx);
    const error = await azureError(storageStep.apply(ctx, live));
    expect(error.code).toBe("forbidden");
    expect(error.message).toMatch(/Contributor or Owner/);
    expect(writes.every((w) => w.status === "failed")).toBe(true);
    expect(await accountNames()).toEqual([]);
  });

  it("refuses a name taken by someone else, with the advice to choose another, and writes nothing", async () => {
    const config = withStorage(defaultRunConfig(), "eastus", { accountName: "aksaudit" });
    const { ctx, writes } = testStepContext(sim, { config });
    const live = await storageStep.read(ctx);
    const line = storageStep.plan(ctx, live).find((l) => l.resource.startsWith("aksaudit"));
    expect(line?.details?.[0]).toMatch(/^Blocked: .*aksaudit.*choose another name/);
    const error = await azureError(storageStep.apply(ctx, live));
    expect(error.code).toBe("name_taken");
    expect(error.message).toContain("choose another name");
    expect(writes).toEqual([]);
  });
});

describe("adopting the customer's account", () => {
  const CUSTOMER = "contosologs01";
  const customerPath = (name: string) =>
    `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.Storage/storageAccounts/${name}?api-version=2025-08-01`;

  beforeAll(async () => {
    await freshTenant();
    const created = await armRaw(sim, OWNER, "PUT", customerPath(CUSTOMER), {
      location: "eastus",
      kind: "StorageV2",
      sku: { name: "Standard_GRS" },
      properties: {
        allowBlobPublicAccess: true,
        minimumTlsVersion: "TLS1_2",
        networkAcls: { defaultAction: "Deny", bypass: "None", ipRules: [{ value: "192.0.2.44", action: "Allow" }] },
      },
    });
    expect([200, 202]).toContain(created.status);
    const weu = await armRaw(sim, OWNER, "PUT", customerPath("contosologsweu"), {
      location: "westeurope",
      kind: "StorageV2",
      sku: { name: "Standard_LRS" },
    });
    expect([200, 202]).toContain(weu.status);
  });

  it("plans the security fix and the trusted-services bypass, keeps the customer's firewall and SKU", async () => {
    const config = withStorage(defaultRunConfig(), "eastus", {
      resourceGroup: "rg-aks-prod-eastus",
      createResourceGroup: false,
      accountName: CUSTOMER,
      adopt: true,
    });
    const { ctx, writes } = testStepContext(sim, { config });
    const live = await storageStep.read(ctx);
    const lines = storageStep.plan(ctx, live).filter((l) => l.resource.startsWith(CUSTOMER));
    expect(lines.map((l) => `${l.action} ${l.resourceType}`)).toEqual([
      "update Storage account",
      "update Storage firewall",
      "create Lifecycle policy",
    ]);
    expect(lines[0]?.details).toEqual(["allowBlobPublicAccess: true → false"]);
    expect(lines[1]?.details).toEqual(["bypass: None → AzureServices", "IP rules: kept as they are"]);

    const out = await storageStep.apply(ctx, live);
    expect(out.accounts.find((a) => a.region === "eastus")).toMatchObject({
      name: CUSTOMER,
      adopted: true,
      resourceGroup: "rg-aks-prod-eastus",
    });
    expect(writes.filter((w) => w.target.includes(CUSTOMER)).map((w) => w.kind)).toEqual(["update", "update", "create"]);
    const [stored] = (await armOfType(sim, "Microsoft.Storage/storageAccounts")).filter((a) => a.name === CUSTOMER);
    expect(stored).toMatchObject({
      sku: { name: "Standard_GRS" },
      properties: {
        allowBlobPublicAccess: false,
        networkAcls: { defaultAction: "Deny", bypass: "AzureServices", ipRules: [{ value: "192.0.2.44" }] },
      },
    });
    expect(await storageStep.verify(ctx, out)).toMatchObject({ ok: true });
    const again = testStepContext(sim, { config });
    const plan = storageStep
      .plan(again.ctx, await storageStep.read(again.ctx))
      .find((l) => l.resourceType === "Storage account" && l.resource.startsWith(CUSTOMER));
    expect(plan?.action).toBe("adopt");
  });

  it("keeps the adopted account's own lifecycle rules, sending back what the read found without reading the policy again", async () => {
    const policyPath = `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.Storage/storageAccounts/contosologsweu/managementPolicies/default?api-version=2025-08-01`;
    const theirs = {
      name: "customer-archive",
      enabled: true,
      type: "Lifecycle",
      definition: {
        filters: { blobTypes: ["blockBlob"], prefixMatch: ["archive/"] },
        actions: { baseBlob: { tierToCool: { daysAfterModificationGreaterThan: 60 } } },
      },
    };
    expect((await armRaw(sim, OWNER, "PUT", policyPath, { properties: { policy: { rules: [theirs] } } })).status).toBe(200);
    const config = withStorage(defaultRunConfig(), "westeurope", {
      resourceGroup: "rg-aks-prod-eastus",
      createResourceGroup: false,
      accountName: "contosologsweu",
      adopt: true,
    });
    const { ctx } = testStepContext(sim, { config });
    await clearRequests(sim);
    const live = await storageStep.read(ctx);
    expect(
      storageStep.plan(ctx, live).find((l) => l.resourceType === "Lifecycle policy" && l.resource.startsWith("contosologsweu"))?.details,
    ).toContain("keeps the account's 1 other rule");
    await storageStep.apply(ctx, live);
    const policyRequests = (await simRequests(sim))
      .filter((r) => r.url.toLowerCase().includes("/storageaccounts/contosologsweu/managementpolicies/"))
      .map((r) => r.method);
    expect(policyRequests).toEqual(["GET", "PUT"]);
    const stored = await armRaw(sim, OWNER, "GET", policyPath);
    const rules = (stored.body as { properties: { policy: { rules: { name: string; definition: unknown }[] } } }).properties.policy.rules;
    expect(rules.map((r) => r.name).sort()).toEqual(["customer-archive", "kube-audit-retention"]);
    expect(rules.find((r) => r.name === "customer-archive")?.definition).toEqual(theirs.definition);
  });

  it("refuses an account in another region, explaining why", async () => {
    const config = withStorage(defaultRunConfig(), "eastus", {
      resourceGroup: "rg-aks-prod-eastus",
      createResourceGroup: false,
      accountName: "contosologsweu",
      adopt: true,
    });
    const { ctx, writes } = testStepContext(sim, { config });
    const live = await storageStep.read(ctx);
    const error = await azureError(storageStep.apply(ctx, live));
    expect(error.code).toBe("region_mismatch");
    expect(error.message).toContain("Azure Monitor only delivers logs to an account in the cluster's region");
    expect(writes).toEqual([]);
  });
});
