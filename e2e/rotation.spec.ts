import { expect, test } from "@playwright/test";
import { OWNER, resetSimulator, signInAs, simState, type Json } from "./support";

// Simulated Graph secrets carry "8Q~" after their three-character hint, like Entra's: the hint alone can't match this.
const SECRET_LIKE = /[A-Za-z0-9_\-.~]{3}8Q~/;

test("a run with a 20-day secret warns about its expiry, and rotating replaces the secret everywhere", async ({ page, request }) => {
  test.setTimeout(240_000);
  await resetSimulator(request);
  await signInAs(page, OWNER);

  await page.getByRole("link", { name: "Start onboarding" }).click();
  await expect(page.getByText("Available.")).toHaveCount(2);
  await page.getByLabel("Client secret lifetime (days)").fill("20");
  await page.getByRole("button", { name: "Review the plan" }).click();
  await expect(page).toHaveURL(/\/onboarding\/[\w-]+\/plan$/);
  await page.getByRole("button", { name: "Confirm and start" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 150_000 });
  const runUrl = page.url();

  const panel = page.getByRole("region", { name: "Client secret" });
  await expect(panel.getByRole("status").filter({ hasText: /expires in 19 days .* Rotate it before then/ })).toBeVisible();
  const before = await simState(request);
  const app = (before.graph.applications as Json[]).find((a) => a.uniqueName === "expel-aks-audit-reader");
  const oldKeyId = String(app.passwordCredentials[0].keyId);
  await expect(panel.getByText(oldKeyId)).toBeVisible();
  await expect(
    panel
      .getByRole("definition")
      .filter({ hasText: `${String(app.passwordCredentials[0].endDateTime).slice(0, 16).replace("T", " ")} UTC` }),
  ).toBeVisible();
  const deviceId = String(before.workbench.devices[0].id);
  const oldHash = String(before.workbench.secretSha256[deviceId]);

  // The estate's run list flags the run too.
  await page.goto("/estate");
  // Newest first: this run is the first item.
  await expect(
    page.getByRole("region", { name: "Onboarding runs in this tenant" }).getByRole("listitem").first().getByText("Secret expires soon"),
  ).toBeVisible();
  await page.goto(runUrl);

  await panel.getByRole("button", { name: "Rotate secret" }).click();
  await expect(panel.getByText(/Creates a new secret valid for 20 days/)).toBeVisible();
  await panel.getByRole("button", { name: "Confirm rotation" }).click();
  await expect(panel.getByText(/^Last rotated .* \(started by owner@contoso\.onmicrosoft\.com\)\.$/)).toBeVisible({ timeout: 60_000 });

  const after = await simState(request);
  const rotated = (after.graph.applications as Json[]).find((a) => a.uniqueName === "expel-aks-audit-reader");
  expect(rotated.passwordCredentials).toHaveLength(1);
  const newKeyId = String(rotated.passwordCredentials[0].keyId);
  expect(newKeyId).not.toBe(oldKeyId);
  await expect(panel.getByText(newKeyId)).toBeVisible();
  await expect(panel.getByText(oldKeyId)).toHaveCount(0);
  await expect(
    panel
      .getByRole("definition")
      .filter({ hasText: `${String(rotated.passwordCredentials[0].endDateTime).slice(0, 16).replace("T", " ")} UTC` }),
  ).toBeVisible();
  expect(after.workbench.secretSha256[deviceId]).toMatch(/^[0-9a-f]{64}$/);
  expect(after.workbench.secretSha256[deviceId]).not.toBe(oldHash);

  const html = await page.content();
  expect(html).not.toMatch(SECRET_LIKE);
  expect(html).not.toMatch(/secretText|client_secret/i);
  const trail = page.getByRole("table", { name: /Every Azure and Graph write/ });
  await expect(trail.getByRole("row").filter({ hasText: "credential.rotated" })).toHaveCount(1);

  // Presenter mode: the key id is shortened and the hint hidden.
  await page.goto(`${runUrl}?present=1`);
  await expect(panel.getByText(newKeyId)).toHaveCount(0);
  await expect(panel.getByText(/^Starts with$/)).toHaveCount(0);
  await page.goto(`${runUrl}?present=0`);
});
