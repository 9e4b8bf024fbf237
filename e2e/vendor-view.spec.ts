import { expect, test, type Page } from "@playwright/test";
import { e2eEnv } from "./env";
import { confirmAndFinish, ENGINEER, OWNER, resetSimulator, reviewPlan, signInAsEngineer } from "./support";

const CONTOSO_TENANT = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";
const STEP_TITLES = [
  "Audit log storage",
  "Diagnostic settings",
  "App registration",
  "Read-only AKS role",
  "Role assignments",
  "Hand-off to Workbench",
];

/** Nothing secret in a page: no token, no portal or Workbench secret, no encryption key, no session cookie. */
async function expectNoSecrets(page: Page) {
  const html = await page.content();
  const env = e2eEnv().processEnv;
  expect(html).not.toMatch(/secretText|client_secret|eyJ[\w-]{10,}\./i);
  for (const secret of [env.ENTRA_CLIENT_SECRET, env.ENCRYPTION_KEY, env.WORKBENCH_API_KEY]) expect(html).not.toContain(secret);
  for (const cookie of await page.context().cookies()) if (cookie.value.length > 16) expect(html).not.toContain(cookie.value);
}

test("vendor staff see every customer's runs read-only; customers keep their runs and see the vendor looked", async ({
  browser,
  request,
}) => {
  test.setTimeout(240_000);
  await resetSimulator(request);

  // Contoso's owner onboards (hand-off through the Workbench API).
  const owner = await browser.newPage();
  await reviewPlan(owner);
  await confirmAndFinish(owner, 180_000);
  const runPath = new URL(owner.url()).pathname;
  const runId = runPath.split("/").pop()!;

  // A customer admin gets a 403 on the vendor pages.
  for (const target of ["/vendor", `/vendor/runs/${runId}`]) {
    const response = await owner.goto(target);
    expect(response?.status()).toBe(403);
    await expect(owner.getByRole("heading", { name: "This page is for vendor staff" })).toBeVisible();
    await expect(owner.getByText(ENGINEER)).toHaveCount(0);
  }

  // The vendor engineer signs in with the vendor's own tenant and sees Contoso's run by name, with every step done.
  const engineer = await browser.newPage();
  await signInAsEngineer(engineer);
  await expect(engineer.getByRole("heading", { name: "Customer onboardings" })).toBeVisible();
  const row = engineer
    .getByRole("row")
    .filter({ has: engineer.getByRole("link", { name: "Contoso" }) })
    .first();
  const steps = row.getByRole("list", { name: "Steps of Contoso's run" });
  for (const title of STEP_TITLES) await expect(steps.getByRole("listitem").filter({ hasText: `${title}: Done` })).toHaveCount(1);
  await expect(row.getByRole("cell", { name: "Complete" })).toBeVisible();
  await expect(row.getByText(OWNER)).toBeVisible();
  await expectNoSecrets(engineer);
  // Read-only: the only controls are the header's.
  const buttons = await engineer.getByRole("button").allInnerTexts();
  expect(buttons.map((b) => b.replace(/:.*$/s, "").trim()).sort()).toEqual(["Presenter mode", "Sign out"]);

  // The read-only detail: steps, writes and decisions, no action, no secret.
  await row.getByRole("link", { name: "Contoso" }).click();
  await expect(engineer).toHaveURL(new RegExp(`/vendor/runs/${runId}$`));
  await expect(engineer.getByRole("heading", { name: /^Contoso: onboarding of 4 AKS clusters$/ })).toBeVisible();
  for (const title of STEP_TITLES) await expect(engineer.getByRole("listitem", { name: title })).toContainText("Done");
  await expect(
    engineer
      .getByRole("table", { name: /write-ahead log/ })
      .getByRole("row")
      .filter({ hasText: "succeeded" })
      .first(),
  ).toBeVisible();
  await expectNoSecrets(engineer);
  expect((await engineer.getByRole("button").allInnerTexts()).length).toBe(2);

  // Presenter mode masks the tenant id in the HTML itself.
  expect(await engineer.content()).toContain(CONTOSO_TENANT);
  await engineer.goto(`/vendor/runs/${runId}?present=1`);
  await expect(engineer.getByText("Presenter mode — ids masked, secrets hidden")).toBeVisible();
  expect(await engineer.content()).not.toContain(CONTOSO_TENANT);
  await expect(engineer.getByText("Tenant c88c…e8fc", { exact: false })).toBeVisible();

  // The engineer can't open or act on the customer's run, nor download its audit trail.
  for (const target of [runPath, `${runPath}/plan`]) {
    const response = await engineer.goto(target);
    expect(response?.status()).toBe(403);
    await expect(engineer.getByRole("heading", { name: "You can't open this onboarding run" })).toBeVisible();
    await expect(engineer.getByRole("button", { name: /Retry|Resume|Confirm|Reveal/ })).toHaveCount(0);
  }
  for (const format of ["jsonl", "csv"]) {
    const download = await engineer.request.get(`${runPath}/audit?format=${format}`);
    expect(download.status()).toBe(403);
    expect(await download.text()).toBe("");
  }
  // Starting an onboarding is for a customer's admin: the engineer's sign-in can't read a customer's Azure.
  await engineer.goto("/onboarding/new");
  await expect(engineer).toHaveURL(/\/vendor$/);
  const own = await engineer.request.get("/audit?format=jsonl");
  expect(own.status()).toBe(200);
  expect(await own.text()).not.toContain(runId);

  // Contoso's owner sees in the run's audit trail that the vendor looked.
  await owner.goto(runPath);
  const trail = owner.getByRole("table", { name: /Every Azure and Graph write/ });
  await expect(trail.getByRole("row").filter({ hasText: "vendor.run_viewed" }).filter({ hasText: ENGINEER }).first()).toBeVisible();
});
