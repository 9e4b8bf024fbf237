import { expect, test } from "@playwright/test";
import { resetSimulator, reviewPlan } from "./support";

test("the plan downloads as an Azure CLI script and as Terraform, for this tenant only", async ({ page, request }) => {
  await resetSimulator(request);
  await reviewPlan(page);
  const runId = new URL(page.url()).pathname.split("/")[2] ?? "";
  const exports = page.getByRole("region", { name: "Export for change approval" });

  const [cli] = await Promise.all([
    page.waitForEvent("download"),
    exports.getByRole("link", { name: "Download Azure CLI script" }).click(),
  ]);
  expect(cli.suggestedFilename()).toBe(`aks-onboarding-${runId}.sh`);
  const script = await (await page.request.get(`/onboarding/${runId}/plan/export?format=cli`)).text();
  expect(script).toMatch(/^#!\/usr\/bin\/env bash\n/);
  expect(script).toContain("az storage account create");
  expect(script).toContain("--name 'aks-onboarding-kube-audit'");
  // The ABAC condition sits in a single-quoted bash word (the role assignment's body): its quotes are written '\''.
  expect(script).toContain("StringEquals '\\''kubeaudit");

  const [tf] = await Promise.all([page.waitForEvent("download"), exports.getByRole("link", { name: "Download Terraform" }).click()]);
  expect(tf.suggestedFilename()).toBe(`aks-onboarding-${runId}.tf`);
  const config = await (await page.request.get(`/onboarding/${runId}/plan/export?format=terraform`)).text();
  expect(config).toContain('resource "azurerm_storage_account"');
  expect(config).toContain('resource "azuread_application_password" "vendor"');

  // Each download is a decision in the run's audit trail.
  const trail = await (await page.request.get(`/onboarding/${runId}/audit?format=csv`)).text();
  expect(trail.match(/run\.plan_exported/g)?.length).toBeGreaterThanOrEqual(4);

  // Signed out: a bare 401, nothing of the plan.
  const anonymous = await request.get(`/onboarding/${runId}/plan/export?format=cli`);
  expect(anonymous.status()).toBe(401);
  expect(await anonymous.text()).toBe("");
});
