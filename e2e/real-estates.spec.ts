// Real customer estates on the new-onboarding form: no dead end without Microsoft.Storage, a cluster at Azure's limit of
// diagnostic settings flagged with one click to leave it out, an existing kube-audit account offered in one click.
import fs from "node:fs";
import path from "node:path";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { OWNER, signInAs, simState, simulatorUrl, type Json } from "./support";

const PROD = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const defaultScenario = (): Json =>
  JSON.parse(fs.readFileSync(path.join(__dirname, "..", "simulator", "scenarios", "default.json"), "utf8"));
const cluster = (scenario: Json, name: string): Json =>
  (scenario.subscriptions as Json[]).flatMap((s) => s.clusters as Json[]).find((c) => c.name === name);

/** Reset the simulator to a scenario built here from the default estate. */
async function resetTo(request: APIRequestContext, scenario: Json) {
  const res = await request.post(`${simulatorUrl}/_sim/reset`, { data: scenario });
  expect(res.ok()).toBe(true);
}

test("an estate without Microsoft.Storage onboards with the default choices and no extra click", async ({ page, request }) => {
  test.setTimeout(180_000);
  // AKS-only subscriptions: Microsoft.Storage registered nowhere (as simulator/scenarios/unregistered-storage.json).
  const scenario = defaultScenario();
  for (const s of scenario.subscriptions as Json[])
    s.registeredProviders = (s.registeredProviders as string[]).filter((p) => p !== "Microsoft.Storage");
  await resetTo(request, scenario);
  // The same clicks as the default scenario's onboarding (e2e/onboarding.spec.ts): sign-in to done.
  let clicks = 0;
  await page.goto("/");
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  clicks++;
  await page.getByRole("button", { name: OWNER }).click();
  clicks++;
  await expect(page).toHaveURL(/\/estate$/);
  await page.getByRole("link", { name: "Start onboarding" }).click();
  clicks++;
  await expect(page.getByRole("heading", { name: "New onboarding" })).toBeVisible();
  // No error under the regions and no banner: the names are checked once the plan has registered the provider.
  await expect(page.getByRole("status").filter({ hasText: "Checked once the plan has registered Microsoft.Storage" })).toHaveCount(2);
  await expect(page.getByText(/Register the resource provider|may have been deleted/)).toHaveCount(0);
  await page.getByRole("button", { name: "Review the plan" }).click();
  clicks++;

  await expect(page).toHaveURL(/\/onboarding\/[\w-]+\/plan$/);
  const storage = page.getByRole("region", { name: "1. Audit log storage" });
  await expect(storage.getByText("Microsoft.Storage in Contoso Development").first()).toBeVisible();
  await page.getByRole("button", { name: "Confirm and start" }).click();
  clicks++;

  await expect(page).toHaveURL(/\/onboarding\/[\w-]+$/);
  await expect(page.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 150_000 });
  console.log(`clicks from sign-in to done without Microsoft.Storage: ${clicks}`);
  expect(clicks).toBe(5);

  const state = await simState(request);
  const accounts = (state.arm as Json[]).filter((r) => String(r.type).toLowerCase() === "microsoft.storage/storageaccounts");
  expect(accounts.map((a) => a.location).sort()).toEqual(["eastus", "westeurope"]);
});

test("a cluster at the limit of 5 diagnostic settings is flagged on the form, and Leave out unticks it; a cluster without Entra ID gets a note", async ({
  page,
  request,
}) => {
  const scenario = defaultScenario();
  cluster(scenario, "aks-dev-eastus").entraIntegration = false;
  const full = cluster(scenario, "aks-payments-prod");
  full.diagnosticSettings = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "cluster-autoscaler", "guard"].map(
    (category) => ({
      name: `to-law-${category}`,
      workspaceId: `/subscriptions/${PROD}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.OperationalInsights/workspaces/law-prod-eastus`,
      logs: [{ category, enabled: true }],
    }),
  );
  await resetTo(request, scenario);
  await signInAs(page, OWNER);
  await page.goto("/onboarding/new");
  const flag = page.getByRole("note", { name: "aks-payments-prod is at the diagnostic settings limit" });
  await expect(flag).toContainText("already has 5 diagnostic settings");
  await expect(flag).toContainText("Remove a setting");
  const box = page.getByRole("checkbox", { name: /aks-payments-prod/ });
  await expect(box).toBeChecked();
  await flag.getByRole("button", { name: "Leave out" }).click();
  await expect(box).not.toBeChecked();
  await expect(flag).toHaveCount(0);
  // The other clusters stay selected.
  await expect(page.getByRole("checkbox", { name: /aks-dev-eastus/ })).toBeChecked();
  // Without Microsoft Entra integration: onboarded, and the admin is told what the vendor won't get.
  await expect(page.getByRole("note").filter({ hasText: "No Microsoft Entra integration" })).toHaveCount(1);
  await expect(page.getByRole("note").filter({ hasText: "no kubeconfig" })).toBeVisible();
});

test("a cluster already sending kube-audit to an account in its region: the form says so and offers that account in one click", async ({
  page,
  request,
}) => {
  test.setTimeout(180_000);
  const scenario = defaultScenario();
  const prod = (scenario.subscriptions as Json[]).find((s) => s.id === PROD);
  prod.resourceGroups.push({ name: "rg-logging-eastus", location: "eastus" });
  prod.storageAccounts = [{ name: "contosok8slogseus", resourceGroup: "rg-logging-eastus", location: "eastus" }];
  cluster(scenario, "aks-payments-prod").diagnosticSettings = [
    {
      name: "kube-audit-to-storage",
      storageAccountId: `/subscriptions/${PROD}/resourceGroups/rg-logging-eastus/providers/Microsoft.Storage/storageAccounts/contosok8slogseus`,
      logs: [{ category: "kube-audit", enabled: true }],
    },
  ];
  await resetTo(request, scenario);
  await signInAs(page, OWNER);
  await page.goto("/onboarding/new");
  await expect(page.getByText("two exports cost twice")).toBeVisible();
  await page.getByRole("button", { name: "Use contosok8slogseus for eastus" }).click();
  await expect(page.getByLabel("Storage account name for eastus")).toHaveValue("contosok8slogseus");
  await expect(page.getByRole("status").filter({ hasText: "Exists in rg-logging-eastus (eastus): it will be adopted" })).toBeVisible();
  await expect(page.getByText("that setting and account are reused")).toBeVisible();

  await page.getByRole("button", { name: "Review the plan" }).click();
  await expect(page).toHaveURL(/\/onboarding\/[\w-]+\/plan$/);
  const storage = page.getByRole("region", { name: "1. Audit log storage" });
  await expect(storage.getByText("contosok8slogseus (rg-logging-eastus)").first()).toBeVisible();
  await expect(storage.getByText("contosok8slogseus/default").first()).toBeVisible();

  // Adopted with the same lifecycle rule and read condition as an account of the portal's own, and no second export.
  await page.getByRole("button", { name: "Confirm and start" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 150_000 });
  const state = await simState(request);
  const ofType = (type: string) => (state.arm as Json[]).filter((r) => String(r.type).toLowerCase() === type.toLowerCase());
  const policy = ofType("Microsoft.Storage/storageAccounts/managementPolicies").find((p) =>
    String(p.id).toLowerCase().includes("/storageaccounts/contosok8slogseus/"),
  );
  const rule = (policy?.properties.policy.rules as Json[] | undefined)?.find((r) =>
    r.definition.filters.prefixMatch.includes("insights-logs-kube-audit/"),
  );
  expect(rule?.definition.actions.baseBlob.delete.daysAfterModificationGreaterThan).toBe(30);
  const app = (state.graph.applications as Json[]).find((a) => a.uniqueName === "expel-aks-audit-reader");
  const sp = (state.graph.servicePrincipals as Json[]).find((x) => x.appId === app?.appId);
  const blobReaders = ofType("Microsoft.Authorization/roleAssignments").filter(
    (a) =>
      a.properties.principalId === sp?.id &&
      String(a.properties.roleDefinitionId).toLowerCase().endsWith("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"),
  );
  expect(blobReaders.some((a) => String(a.properties.condition).includes("'contosok8slogseus'"))).toBe(true);
  const kubeAuditSettings = ofType("Microsoft.Insights/diagnosticSettings").filter(
    (x) =>
      String(x.id).toLowerCase().includes("/managedclusters/aks-payments-prod/") &&
      (x.properties.logs as Json[]).some((l) => l.category === "kube-audit" && l.enabled),
  );
  expect(kubeAuditSettings.map((x) => x.name)).toEqual(["kube-audit-to-storage"]);
});

test("a disabled subscription is shown, not selectable, with why and who can re-enable it", async ({ page, request }) => {
  await resetTo(
    request,
    JSON.parse(fs.readFileSync(path.join(__dirname, "..", "simulator", "scenarios", "disabled-subscription.json"), "utf8")),
  );
  await signInAs(page, OWNER);
  await page.goto("/onboarding/new");
  const legacy = page.getByRole("checkbox", { name: /Contoso Legacy/ });
  await expect(legacy).toBeDisabled();
  await expect(legacy).not.toBeChecked();
  await expect(page.getByText("(Disabled in Azure: read-only)")).toBeVisible();
  await expect(page.getByText(/Account Administrator \(the billing owner\) can reactivate it/)).toBeVisible();
  await expect(page.getByRole("checkbox", { name: /aks-legacy-eastus/ })).toBeDisabled();
  for (const region of ["eastus", "westeurope"]) {
    await expect(page.getByLabel(`Subscription for ${region}`).locator("option", { hasText: "Contoso Legacy" })).toHaveCount(0);
  }
});
