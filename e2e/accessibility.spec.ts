// Accessibility: axe-core on every page of the portal, in the states an admin meets them (signed out, mid-run, finished,
// failed and waiting for another admin, presenter mode, vendor view, the 403 pages, the manual hand-off panel).
// A page passes with no serious or critical violation; a failure names each rule id, its impact and the first element.
import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { ownPortal } from "./portal";
import { confirmAndFinish, OWNER, resetSimulator, reviewPlan, signInAs, signInAsEngineer, simulatorUrl } from "./support";

const PLATFORM = "platform@contoso.onmicrosoft.com";

/** Soft-asserts that axe finds no serious or critical violation on the page as it stands, so one run reports every page. */
async function expectAccessible(page: Page, what: string) {
  const { violations, passes } = await new AxeBuilder({ page }).analyze();
  // axe ran its rules on this page: a page it could not read would pass with no violations at all.
  expect(passes.length, `axe rules that passed on ${what}`).toBeGreaterThan(10);
  const lesser = violations.filter((v) => v.impact !== "serious" && v.impact !== "critical").map((v) => `${v.id} (${v.impact})`);
  if (lesser.length > 0) console.log(`axe on ${what}, minor and moderate: ${lesser.join(", ")}`);
  const blocking = violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}, ${v.nodes.length}×, e.g. ${v.nodes[0]?.target.join(" ") ?? "?"}): ${v.help}`);
  expect.soft(blocking, `axe on ${what}`).toEqual([]);
}

test.afterAll(async ({ request }) => {
  await resetSimulator(request);
});

test("every customer and vendor page, signed out, mid-run, finished and refused, has no serious axe violation", async ({
  page,
  browser,
  request,
}) => {
  test.setTimeout(300_000);
  await resetSimulator(request);

  await page.goto("/");
  await expectAccessible(page, "landing page");
  await page.goto("/auth/error?code=state");
  await expect(page.getByRole("heading", { name: "Sign-in failed" })).toBeVisible();
  await expectAccessible(page, "sign-in error page");
  expect((await page.goto("/no-such-page"))?.status()).toBe(404);
  await expectAccessible(page, "not-found page");
  await page.goto("/?present=1");
  await expect(page.getByText("Presenter mode — ids masked, secrets hidden")).toBeVisible();
  await expectAccessible(page, "landing page in presenter mode");
  await page.goto("/?present=0");

  await signInAs(page, OWNER);
  await expectAccessible(page, "estate");
  await page.getByRole("link", { name: "Start onboarding" }).click();
  await expect(page.getByText("Available.")).toHaveCount(2);
  await expectAccessible(page, "new onboarding form");
  await page.getByRole("button", { name: "Review the plan" }).click();
  await expect(page.getByRole("heading", { name: "Review the plan" })).toBeVisible();
  await expectAccessible(page, "plan");

  // One diagnostic-setting PUT is held, so the run page is seen with a step at work.
  const hold = {
    name: "setting 2",
    method: "PUT",
    path: "/diagnosticsettings/aks-onboarding-kube-audit$",
    nth: 2,
    phase: "before",
    ms: 15_000,
  };
  expect((await request.post(`${simulatorUrl}/_sim/holds`, { data: { rules: [hold] } })).ok()).toBe(true);
  try {
    await page.getByRole("button", { name: "Confirm and start" }).click();
    await expect(page).toHaveURL(/\/onboarding\/[\w-]+$/);
    await expect(page.getByText(/Diagnostic settings \d of 4 clusters/)).toBeVisible({ timeout: 90_000 });
    await expectAccessible(page, "run page mid-run");
    await expect(page.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 150_000 });
  } finally {
    await request.delete(`${simulatorUrl}/_sim/holds`);
  }
  const runPath = new URL(page.url()).pathname;
  const runId = runPath.split("/").pop() ?? "";
  await expectAccessible(page, "finished run page");
  await page.goto(`${runPath}?present=1`);
  await expect(page.getByText("Presenter mode — ids masked, secrets hidden")).toBeVisible();
  await expectAccessible(page, "finished run page in presenter mode");
  await page.goto(`${runPath}/plan`);
  await expectAccessible(page, "plan of a started run, presenter mode");
  await page.goto(`${runPath}?present=0`);
  await page.goto(`${runPath}/offboard`);
  await expect(page.getByRole("button", { name: /^Remove \d+ resources?$/ })).toBeVisible();
  await expectAccessible(page, "removal plan");
  expect((await page.goto("/vendor"))?.status()).toBe(403);
  await expect(page.getByRole("heading", { name: "This page is for vendor staff" })).toBeVisible();
  await expectAccessible(page, "vendor 403 page");

  const vendorContext = await browser.newContext();
  try {
    const engineer = await vendorContext.newPage();
    await signInAsEngineer(engineer);
    await expect(engineer.getByRole("heading", { name: "Customer onboardings" })).toBeVisible();
    await expectAccessible(engineer, "vendor view");
    await engineer.goto(`/vendor/runs/${runId}`);
    await expect(engineer.getByRole("heading", { name: /^Contoso: onboarding of 4 AKS clusters$/ })).toBeVisible();
    await expectAccessible(engineer, "vendor run detail");
    expect((await engineer.goto(runPath))?.status()).toBe(403);
    await expect(engineer.getByRole("heading", { name: "You can't open this onboarding run" })).toBeVisible();
    await expectAccessible(engineer, "run 403 page");
  } finally {
    await vendorContext.close();
  }
});

test("a run that stops for another admin's role has no serious axe violation", async ({ page, request }) => {
  test.setTimeout(180_000);
  // second-admin.json: platform@ is Owner without an Entra role, so the run stops at the app registration.
  await resetSimulator(request, "second-admin.json");
  await signInAs(page, PLATFORM);
  await page.getByRole("link", { name: "Start onboarding" }).click();
  await expect(page.getByRole("heading", { name: "New onboarding" })).toBeVisible();
  await page.getByRole("button", { name: "Review the plan" }).click();
  await expect(page).toHaveURL(/\/onboarding\/[\w-]+\/plan$/);
  await page.getByRole("button", { name: "Confirm and start" }).click();
  await expect(page.getByRole("region", { name: "“App registration” needs another admin" })).toBeVisible({ timeout: 120_000 });
  await expectAccessible(page, "run page waiting for another admin");
});

// A portal without a Workbench API ends its runs with the manual hand-off panel.
const manual = ownPortal(3104, "accessibility", { WORKBENCH_URL: "", WORKBENCH_API_KEY: "" });

test("the manual hand-off panel has no serious axe violation, before and after the secret is revealed", async ({ page, request }) => {
  test.setTimeout(240_000);
  await resetSimulator(request);
  await manual.start();
  try {
    await reviewPlan(page, OWNER, manual.url);
    await confirmAndFinish(page, 120_000);
    const panel = page.getByRole("region", { name: "Hand off to Expel" });
    await expect(panel).toBeVisible();
    await expectAccessible(page, "manual hand-off panel");
    await panel.getByLabel("No one else can see my screen").check();
    await panel.getByRole("button", { name: "Reveal secret once" }).click();
    await expect(panel.getByLabel("Client secret value")).not.toHaveValue("");
    await expectAccessible(page, "manual hand-off panel with the secret shown");
  } finally {
    await manual.kill();
  }
});
