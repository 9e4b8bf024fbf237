// Deny policies (simulator/scenarios/policy-deny.json): the form pre-fills the tag a policy requires, a run without
// "Restrict network access" stops at the storage step naming the policy assignment, and changing the choice the run page
// offers retries the step to success.
import { expect, test } from "@playwright/test";
import { OWNER, resetSimulator, signInAs, simState, type Json } from "./support";

test.afterAll(async ({ request }) => {
  await resetSimulator(request);
});

test("a deny policy is told in words, and the step succeeds after the choice it names is changed", async ({ page, request }) => {
  test.setTimeout(180_000);
  await resetSimulator(request, "policy-deny.json");
  await signInAs(page, OWNER);
  await page.getByRole("link", { name: "Start onboarding" }).click();
  await expect(page.getByRole("heading", { name: "New onboarding" })).toBeVisible();

  // Pre-filled from the two required-tag assignments, each named beside the tag.
  const tags = page.getByRole("group", { name: "Tags" });
  await expect(tags.getByLabel("Tag 1 name")).toHaveValue("costCenter");
  await expect(
    tags.getByText("required by policy 'Require costCenter on resource groups', 'Require costCenter on resources'"),
  ).toBeVisible();
  await tags.getByLabel("Tag 1 value").fill("cc-4711");
  // "Restrict network access" stays off, as by default.
  await expect(page.getByRole("checkbox", { name: /Restrict network access/ })).not.toBeChecked();
  await expect(page.getByText("Available.")).toHaveCount(2);
  await page.getByRole("button", { name: "Review the plan" }).click();

  await expect(page).toHaveURL(/\/onboarding\/[\w-]+\/plan$/);
  await expect(
    page
      .getByRole("region", { name: "1. Audit log storage" })
      .getByText("tags: costCenter=cc-4711, managed-by=aks-onboarding-portal")
      .first(),
  ).toBeVisible();
  await page.getByRole("button", { name: "Confirm and start" }).click();

  // The storage step stops with the assignment, what it demands and what to change; never raw JSON.
  await expect(page).toHaveURL(/\/onboarding\/[\w-]+$/);
  await expect(page.getByRole("status").filter({ hasText: "Stopped: needs attention" })).toBeVisible({ timeout: 60_000 });
  const storage = page.getByRole("listitem", { name: "Audit log storage" });
  const alert = storage.getByRole("alert");
  await expect(alert).toContainText(
    "Azure Policy assignment 'Storage accounts must restrict network access' requires storage accounts to deny access from all networks by default",
  );
  await expect(alert).toContainText('turn on "Restrict network access"');
  await expect(alert).not.toContainText("{");

  // The run page offers the choice the policy names, already turned on, with the run's tag kept.
  const change = page.getByRole("form", { name: "Change your choices and retry" });
  await expect(change.getByLabel("Tag 1 name")).toHaveValue("costCenter");
  await expect(change.getByLabel("Tag 1 value")).toHaveValue("cc-4711");
  await expect(change.getByRole("checkbox", { name: /Restrict network access/ })).toBeChecked();
  await change.getByRole("button", { name: "Save and retry" }).click();

  await expect(storage).toContainText("Done", { timeout: 60_000 });
  await expect(storage.getByRole("alert")).toHaveCount(0);
  // The run finishes before the next spec resets the simulator (a run left going would write into that spec's estate).
  await expect(page.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 150_000 });
  const state = await simState(request);
  const accounts = (state.arm as Json[]).filter((r) => String(r.type).toLowerCase() === "microsoft.storage/storageaccounts");
  expect(accounts).toHaveLength(2);
  for (const a of accounts) {
    expect(a.properties.networkAcls.defaultAction).toBe("Deny");
    expect(a.tags).toEqual({ costCenter: "cc-4711", "managed-by": "aks-onboarding-portal" });
  }
});
