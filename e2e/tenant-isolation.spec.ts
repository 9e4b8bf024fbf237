import { expect, test } from "@playwright/test";
import { OWNER, READER, resetSimulator, reviewPlan, signInAs } from "./support";

const FABRIKAM_ADMIN = "admin@fabrikam.onmicrosoft.com";

test("a run link opens for anyone of the same tenant (to view), and for nobody else", async ({ browser, request }) => {
  await resetSimulator(request);
  const owner = await browser.newPage();
  await reviewPlan(owner);
  const planUrl = new URL(owner.url()).pathname;
  const runUrl = planUrl.replace(/\/plan$/, "");

  // A Reader of Contoso can open the plan from the link and review it, but not confirm it (see authorization.spec.ts).
  const colleague = await browser.newPage();
  await signInAs(colleague, READER);
  await colleague
    .getByRole("region", { name: "Onboarding runs in this tenant" })
    .getByRole("link", { name: new RegExp(`by ${OWNER}`) })
    .first()
    .click();
  await expect(colleague).toHaveURL(new RegExp(`${planUrl}$`));
  await expect(colleague.getByRole("heading", { name: "Review the plan" })).toBeVisible();
  await expect(colleague.getByText("You can review this plan")).toBeVisible();
  await expect(colleague.getByRole("button", { name: "Confirm and start" })).toHaveCount(0);

  // Fabrikam's admin learns nothing: the run's pages look exactly like a link that never existed, with a 403.
  await resetSimulator(request, "fabrikam.json");
  const outsider = await browser.newPage();
  await signInAs(outsider, FABRIKAM_ADMIN);
  for (const target of [runUrl, planUrl, "/onboarding/AAAAAAAAAAAAAAAAAAAAAAAA"]) {
    const response = await outsider.goto(target);
    expect(response?.status()).toBe(403);
    await expect(outsider.getByRole("heading", { name: "You can't open this onboarding run" })).toBeVisible();
    await expect(outsider.getByText("Contoso")).toHaveCount(0);
  }
  // Nor from the run's audit downloads: a bare 403; the tenant-wide download has only Fabrikam's own events.
  for (const format of ["jsonl", "csv"]) {
    const download = await outsider.request.get(`${runUrl}/audit?format=${format}`);
    expect(download.status()).toBe(403);
    expect(await download.text()).toBe("");
  }
  const own = await outsider.request.get("/audit?format=jsonl");
  expect(own.status()).toBe(200);
  expect(await own.text()).not.toContain(runUrl.split("/").pop()!);
  await resetSimulator(request);
});
