import { expect, test } from "@playwright/test";
import { OWNER, resetSimulator, signInAs, simState, type Json } from "./support";

// Azure as the simulator holds it, minus provider registrations (kept on purpose: they are subscription-wide).
async function azure(request: Parameters<typeof simState>[0]): Promise<Json> {
  const s = await simState(request);
  const byId = (a: Json, b: Json) => String(a.id).localeCompare(String(b.id));
  return {
    arm: (s.arm as Json[]).filter((r) => r.type !== "Microsoft.Resources/providers").sort(byId),
    graph: {
      applications: [...s.graph.applications].sort(byId),
      servicePrincipals: [...s.graph.servicePrincipals].sort(byId),
      appRoleAssignments: [...s.graph.appRoleAssignments].sort(byId),
    },
    workbench: s.workbench,
  };
}

test("an Owner onboards, then removes what the run created: Azure and Workbench are back to where they started", async ({
  page,
  request,
}) => {
  test.setTimeout(300_000);
  await resetSimulator(request);
  const before = await azure(request);
  await signInAs(page, OWNER);

  await page.getByRole("link", { name: "Start onboarding" }).click();
  await expect(page.getByText("Available.")).toHaveCount(2);
  await page.getByRole("button", { name: "Review the plan" }).click();
  await page.getByRole("button", { name: "Confirm and start" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 150_000 });
  expect((await azure(request)).workbench.devices).toHaveLength(1);

  await page.getByRole("link", { name: "Remove what this run created" }).click();
  await expect(page.getByRole("heading", { name: "Remove what this run created" })).toBeVisible();
  const plan = page.getByRole("table", { name: "Removal plan" });
  await expect(plan.getByRole("row").filter({ hasText: "Workbench security device" })).toContainText("Remove");
  await expect(plan.getByRole("row").filter({ hasText: "Resource provider registration" }).first()).toContainText("Keep");
  await expect(page.getByRole("alert").filter({ hasText: "Audit logs will be deleted" })).toBeVisible();
  // Presenter mode masks the subscription and tenant ids in every line of the plan.
  const planUrl = page.url();
  expect(await page.content()).toContain("602d1a18-a35e-4b89-a27e-56cb26da2c7b");
  await page.goto(`${planUrl}?present=1`);
  await expect(page.getByRole("table", { name: "Removal plan" })).toBeVisible();
  const masked = await page.content();
  expect(masked).not.toContain("602d1a18-a35e-4b89-a27e-56cb26da2c7b");
  expect(masked).not.toContain("c88cdae7-edd7-47b6-9d38-7d9f34bce8fc");
  await page.goto(`${planUrl}?present=0`);
  // Nothing was removed by looking at the plan.
  expect((await azure(request)).workbench.devices).toHaveLength(1);

  await page.getByRole("button", { name: /^Remove \d+ resources$/ }).click();
  await expect(page.getByRole("status").filter({ hasText: "Nothing left to remove" })).toBeVisible({ timeout: 120_000 });
  const result = page.getByRole("table", { name: "Result of the last removal" });
  await expect(result.getByRole("row").filter({ hasText: "Failed" })).toHaveCount(0);
  await expect(result.getByRole("row").filter({ hasText: "Removed" }).first()).toBeVisible();
  await expect(page.getByRole("button", { name: /^Remove \d+/ })).toHaveCount(0);

  expect(await azure(request)).toEqual(before);

  // The run page still links here, and the page stays truthful on a reload.
  await page.reload();
  await expect(page.getByRole("heading", { name: "Nothing left to remove" })).toBeVisible();
});
