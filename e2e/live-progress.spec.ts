import { expect, test, type Page } from "@playwright/test";
import { OWNER, resetSimulator, signInAs, simulatorUrl } from "./support";

function stepItem(page: Page, title: string) {
  return page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: title }) });
}

// While steps work (several at once: the steps form a graph), the run page's poll updates their progress in place: no
// server re-render per write.
test("two steps work at once, and a working step's progress moves on the page without a re-render", async ({ page, request }) => {
  test.setTimeout(300_000);
  await resetSimulator(request);
  await signInAs(page, OWNER);
  await page.getByRole("link", { name: "Start onboarding" }).click();
  await expect(page.getByText("Available.")).toHaveCount(2);
  await page.getByRole("button", { name: "Review the plan" }).click();
  // Two of the four diagnostic-setting PUTs are held (not yet applied) for a while: the step's progress stops at 2, then 3.
  const rule = (nth: number, ms: number) => ({
    name: `setting ${nth}`,
    method: "PUT",
    path: "/diagnosticsettings/aks-onboarding-kube-audit$",
    nth,
    phase: "before",
    ms,
  });
  // Role assignments (which doesn't need the diagnostic settings) is held at its first write meanwhile: both steps work at
  // once, and no step changes status while the settings' progress moves from 2 to 3.
  const assignment = {
    name: "first role assignment",
    method: "PUT",
    path: "/providers/Microsoft\\.Authorization/roleAssignments/[^/]+$",
    nth: 1,
    phase: "before",
    ms: 45_000,
  };
  expect((await request.post(`${simulatorUrl}/_sim/holds`, { data: { rules: [rule(2, 5_000), rule(3, 25_000), assignment] } })).ok()).toBe(
    true,
  );
  try {
    const refreshes: string[] = [];
    const polls: string[] = [];
    page.on("request", (r) => {
      if (r.headers()["rsc"] === "1") refreshes.push(r.url());
      if (/\/onboarding\/[\w-]+\/status$/.test(new URL(r.url()).pathname)) polls.push(r.url());
    });
    await page.getByRole("button", { name: "Confirm and start" }).click();
    await expect(page).toHaveURL(/\/onboarding\/[\w-]+$/);

    const progress = page.getByRole("progressbar", { name: "Diagnostic settings progress" });
    await expect(page.getByText("Diagnostic settings 2 of 4 clusters")).toBeVisible({ timeout: 90_000 });
    // Two steps working at once, side by side in the stepper; the steps they need are done.
    await expect(stepItem(page, "Role assignments").getByText("Running")).toBeVisible({ timeout: 20_000 });
    await expect(stepItem(page, "Diagnostic settings").getByText("Running")).toBeVisible();
    for (const title of ["Audit log storage", "App registration", "Read-only AKS role"])
      await expect(stepItem(page, title).getByText(/^✓ Done$/)).toBeVisible();
    await expect(page.getByText("Diagnostic settings 2 of 4 clusters")).toBeVisible();
    const refreshesAtTwo = refreshes.length;
    const pollsAtTwo = polls.length;
    await expect(page.getByText("Diagnostic settings 3 of 4 clusters")).toBeVisible({ timeout: 30_000 });
    await expect(progress).toHaveAttribute("value", "3");
    // The page learned the new progress from its polls alone.
    expect(polls.length).toBeGreaterThan(pollsAtTwo);
    expect(refreshes.length).toBe(refreshesAtTwo);

    await expect(page.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 180_000 });
  } finally {
    await request.delete(`${simulatorUrl}/_sim/holds`);
  }
});
