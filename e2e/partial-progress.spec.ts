// Partial progress: a cluster already at Azure's limit of 5 diagnostic settings (simulator/scenarios/cluster-at-limit.json)
// is flagged in the plan with one click to leave it out; confirmed anyway, the run completes for the others and the
// stepper and the vendor view name the cluster, why and what to do.
import { expect, test, type Page } from "@playwright/test";
import { resetSimulator, reviewPlan, signInAsEngineer } from "./support";

const AT_LIMIT = "aks-payments-prod";

/** From the landing page to the plan with the form's defaults (every cluster selected), which flags the cluster at the limit. */
async function reviewFlaggedPlan(page: Page) {
  await reviewPlan(page);
  const flagged = page.getByRole("region", { name: "1 cluster can't be onboarded" });
  const item = flagged.getByRole("listitem", { name: `Cluster ${AT_LIMIT}` });
  await expect(item).toContainText("already has 5 diagnostic settings, Azure's maximum");
  await expect(item).toContainText("What to do: Remove a diagnostic setting it no longer needs");
  await expect(page.getByRole("region", { name: "2. Diagnostic settings" }).getByRole("row", { name: new RegExp(AT_LIMIT) })).toContainText(
    "Blocked",
  );
  return { flagged, item };
}

test("the plan flags a cluster at the settings limit, and Leave … out removes it from the run", async ({ page, request }) => {
  test.setTimeout(120_000);
  await resetSimulator(request, "cluster-at-limit.json");
  const { flagged, item } = await reviewFlaggedPlan(page);
  await item.getByRole("button", { name: `Leave ${AT_LIMIT} out` }).click();
  await expect(flagged).toHaveCount(0);
  const settings = page.getByRole("region", { name: "2. Diagnostic settings" });
  await expect(settings.getByRole("row", { name: /aks-dev-eastus/ })).toBeVisible();
  await expect(settings.getByText(AT_LIMIT)).toHaveCount(0);
  await expect(page.getByText(AT_LIMIT)).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Confirm and start" })).toBeVisible();
});

test("confirmed anyway, the run completes for the others and names the cluster that needs attention", async ({
  page,
  browser,
  request,
}) => {
  test.setTimeout(240_000);
  await resetSimulator(request, "cluster-at-limit.json");
  await reviewFlaggedPlan(page);
  await page.getByRole("button", { name: "Confirm and start" }).click();
  await expect(page).toHaveURL(/\/onboarding\/[\w-]+$/);
  const runId = page.url().split("/").pop() ?? "";
  await expect(page.getByRole("status").filter({ hasText: "Complete — 1 cluster needs attention" })).toBeVisible({ timeout: 180_000 });

  const step = page.getByRole("listitem", { name: "Diagnostic settings" });
  await expect(step).toContainText("Done with exceptions");
  const exceptions = step.getByRole("list", { name: "What Diagnostic settings could not do" });
  await expect(exceptions).toContainText(`${AT_LIMIT}: It already has 5 diagnostic settings`);
  await expect(exceptions).toContainText("What to do: Remove a diagnostic setting it no longer needs");
  for (const title of ["App registration", "Role assignments", "Hand-off to Workbench", "Verification"]) {
    await expect(page.getByRole("listitem", { name: title })).toContainText("Done");
  }

  // The vendor's engineer sees the same exception, read-only.
  const engineer = await browser.newPage();
  await signInAsEngineer(engineer);
  await engineer.goto(`/vendor/runs/${runId}`);
  await expect(engineer.getByRole("status").filter({ hasText: "Complete — 1 cluster needs attention" })).toBeVisible();
  const vendorStep = engineer.getByRole("listitem", { name: "Diagnostic settings" });
  await expect(vendorStep).toContainText("Done with exceptions");
  const vendorExceptions = vendorStep.getByRole("list", { name: "What Diagnostic settings could not do" });
  await expect(vendorExceptions).toContainText(`${AT_LIMIT}: It already has 5 diagnostic settings`);
  // The exception names the cluster; its Azure id stays with the customer.
  expect(await vendorExceptions.innerText()).not.toContain("/subscriptions/");
});
