import { expect, test } from "@playwright/test";
import { clearRequests, OWNER, resetSimulator, signInAs, simulatorUrl, type Json } from "./support";

test("bad choices are refused with field errors, and nothing is created", async ({ page, request }) => {
  await resetSimulator(request);
  await signInAs(page, OWNER);
  await page.getByRole("link", { name: "Start onboarding" }).click();
  await expect(page.getByText("Available.")).toHaveCount(2);
  await clearRequests(request);

  await page.getByLabel("Keep audit logs for (days)").fill("6");
  await page.getByRole("button", { name: "Review the plan" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Check the highlighted fields." })).toBeVisible();
  await expect(page.getByText("Retention must be at least 7 days")).toBeVisible();
  await page.getByLabel("Keep audit logs for (days)").fill("30");

  await page.getByLabel("Client secret lifetime (days)").fill("731");
  await page.getByRole("button", { name: "Review the plan" }).click();
  await expect(page.getByText("Lifetime can be at most 730 days")).toBeVisible();
  await page.getByLabel("Client secret lifetime (days)").fill("180");

  const name = page.getByLabel("Storage account name for eastus");
  await name.fill("kubeaudit");
  await expect(page.getByText("This name is taken by another Azure storage account. Choose another.")).toBeVisible();
  await page.getByRole("button", { name: "Review the plan" }).click();
  await expect(page.getByText("is taken by another Azure storage account")).toBeVisible();
  await expect(page).toHaveURL(/\/onboarding\/new$/);

  // Only reads reached Azure (checkNameAvailability is a POST that reads).
  const log = (await (await request.get(`${simulatorUrl}/_sim/requests`)).json()) as Json[];
  const writes = log.filter((r) => r.method !== "GET" && !String(r.url).includes("/checkNameAvailability"));
  expect(writes).toEqual([]);
});

test("an address the portal doesn't serve answers 404 with the not-found page", async ({ page }) => {
  const response = await page.goto("/no-such-page");
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("heading", { name: "This page doesn't exist" })).toBeVisible();
  await page.getByRole("link", { name: "Back to the start page" }).click();
  await expect(page).toHaveURL(/\/$/);
});
