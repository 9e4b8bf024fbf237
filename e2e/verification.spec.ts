import { expect, test } from "@playwright/test";
import { confirmAndFinish, resetSimulator, reviewPlan, simState, simulatorUrl, type Json } from "./support";

// After onboarding, Verification signs in as the new app and shows its checks; "Run verification again" re-checks with a
// one-hour secret that is removed afterwards.
test("the Verification step shows its checks passing, and running it again works", async ({ page, request }) => {
  test.setTimeout(240_000);
  await resetSimulator(request);
  await reviewPlan(page);
  await confirmAndFinish(page, 180_000);

  const step = page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: "Verification" }) });
  await expect(step.getByText(/checks passed/)).toBeVisible();
  const results = page.getByRole("region", { name: "Verification results" });
  const table = results.getByRole("table", { name: "Verification checks" });
  const row = (label: string | RegExp) => table.getByRole("row").filter({ has: page.getByRole("rowheader", { name: label }) });
  await expect(row("Sign in as the app")).toContainText("Pass");
  await expect(row("Read cluster aks-payments-prod")).toContainText("Pass");
  await expect(row(/^List kube-audit blobs in /).first()).toContainText("Pass");
  await expect(row("Log Analytics query in Contoso Production")).toContainText("Pass");
  await expect(table.getByRole("cell", { name: "Fail", exact: true })).toHaveCount(0);

  // Fresh logs, then verify again: every cluster shows its newest kube-audit blob.
  expect((await request.post(`${simulatorUrl}/_sim/kube-audit/flush`)).ok()).toBe(true);
  await results.getByRole("button", { name: "Run verification again" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 120_000 });
  await expect(row("kube-audit logs of aks-payments-prod")).toContainText(/Pass.*UTC/, { timeout: 30_000 });
  await expect(table.getByRole("cell", { name: "Fail", exact: true })).toHaveCount(0);

  // The re-run's own secret is gone again; the request is in the audit trail. The earlier results may already show a
  // newest blob before the re-run even created its secret, so wait for the trail to record the secret's removal.
  const trail = page.getByRole("table", { name: /Every Azure and Graph write/ });
  const removal = trail.getByRole("row").filter({ hasText: "azure.write (delete)" }).filter({ hasText: "AKS onboarding verification" });
  await expect(async () => {
    await page.reload();
    await expect(removal).toHaveCount(1, { timeout: 1_000 });
  }).toPass({ timeout: 90_000 });
  const app = ((await simState(request)).graph.applications as Json[]).find((a) => a.uniqueName === "expel-aks-audit-reader");
  expect((app.passwordCredentials as Json[]).map((p) => String(p.displayName))).toEqual([expect.stringMatching(/^aks-onboarding /)]);
  await expect(trail.getByRole("row").filter({ hasText: "verification.rerun_requested" })).toHaveCount(1);
});
