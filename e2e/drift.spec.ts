import { expect, test } from "@playwright/test";
import { confirmAndFinish, resetSimulator, reviewPlan, simState, simulatorUrl, type Json } from "./support";

const SUB_PROD = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const SUB_DEV = "2cf36c9a-02f4-41d4-b097-7345a8e2806e";

test("re-check coverage finds new clusters, extends the run through plan and confirm, and ends all covered", async ({ page, request }) => {
  test.setTimeout(300_000);
  await resetSimulator(request);
  await reviewPlan(page);
  await confirmAndFinish(page);
  const runUrl = page.url();

  const coverage = page.getByRole("region", { name: "Coverage" });
  await coverage.getByRole("button", { name: "Re-check coverage" }).click();
  await expect(coverage.getByRole("status")).toContainText("All 4 clusters");

  // Someone creates two clusters: one in a region the run covers, one in a region it doesn't.
  for (const cluster of [
    { subscriptionId: SUB_DEV, resourceGroup: "rg-aks-dev-eastus", name: "aks-batch-dev", location: "eastus" },
    {
      subscriptionId: SUB_PROD,
      resourceGroup: "rg-aks-prod-northeurope",
      name: "aks-web-prod-neu",
      location: "northeurope",
      createResourceGroup: true,
    },
  ]) {
    const res = await request.post(`${simulatorUrl}/_sim/clusters`, { data: cluster });
    expect(res.status()).toBe(201);
  }

  await coverage.getByRole("button", { name: "Re-check coverage" }).click();
  await expect(coverage.getByRole("status")).toContainText("2 of 6 clusters");
  const table = coverage.getByRole("table", { name: "Clusters not covered by this run" });
  await expect(table.getByRole("row").filter({ hasText: "aks-batch-dev" })).toContainText("New cluster, not part of this run");
  await expect(table.getByRole("row").filter({ hasText: "aks-web-prod-neu" })).toContainText("no audit storage account yet");
  await expect(coverage.getByRole("checkbox", { name: "Add aks-batch-dev" })).toBeChecked();
  await expect(coverage.getByRole("checkbox", { name: "Add aks-web-prod-neu" })).toBeChecked();
  await expect(coverage.getByText(/name available, created by the run/)).toBeVisible();

  await coverage.getByRole("button", { name: "Extend the run" }).click();
  await expect(page).toHaveURL(`${runUrl}/plan`);
  await expect(page.getByRole("heading", { name: "Review the plan" })).toBeVisible();
  await expect(page.getByRole("region", { name: "2. Diagnostic settings" }).getByText("Create", { exact: true })).toHaveCount(2);
  await page.getByRole("button", { name: "Confirm and start" }).click();

  await expect(page).toHaveURL(runUrl);
  await expect(page.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 150_000 });
  await page.getByRole("region", { name: "Coverage" }).getByRole("button", { name: "Re-check coverage" }).click();
  await expect(page.getByRole("region", { name: "Coverage" }).getByRole("status")).toContainText("All 6 clusters");

  const state = await simState(request);
  const accounts = (state.arm as Json[]).filter(
    (r) => String(r.type).toLowerCase() === "microsoft.storage/storageaccounts" && String(r.name).startsWith("kubeaudit"),
  );
  expect(accounts.map((a) => a.location).sort()).toEqual(["eastus", "northeurope", "westeurope"]);
  const app = (state.graph.applications as Json[]).find((a) => a.uniqueName === "expel-aks-audit-reader");
  expect(app.passwordCredentials).toHaveLength(1);
  expect(state.workbench.devices).toHaveLength(1);
  expect([...state.workbench.devices[0].storage_accounts].sort()).toEqual(accounts.map((a) => a.name).sort());
});
