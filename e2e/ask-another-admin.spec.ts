import { expect, test } from "@playwright/test";
import { OWNER, resetSimulator, signInAs, simState, type Json } from "./support";

// second-admin.json: platform@ is Owner of both subscriptions without an Entra role; owner@ is also Cloud Application Administrator.
const PLATFORM = "platform@contoso.onmicrosoft.com";
const CONSENT_ROLE = "Cloud Application Administrator or Application Administrator";

test("an Owner without an Entra role asks a Cloud Application Administrator, who signs in from the link and finishes the run", async ({
  browser,
  request,
}) => {
  test.setTimeout(240_000);
  await resetSimulator(request, "second-admin.json");

  // Admin A runs until admin consent, which needs an Entra role A doesn't hold.
  const a = await browser.newPage();
  await signInAs(a, PLATFORM);
  await a.getByRole("link", { name: "Start onboarding" }).click();
  await expect(a.getByRole("heading", { name: "New onboarding" })).toBeVisible();
  await a.getByRole("button", { name: "Review the plan" }).click();
  await expect(a).toHaveURL(/\/onboarding\/[\w-]+\/plan$/);
  await a.getByRole("button", { name: "Confirm and start" }).click();
  await expect(a).toHaveURL(/\/onboarding\/[\w-]+$/);
  const runPath = new URL(a.url()).pathname;

  const panel = a.getByRole("region", { name: "“App registration” needs another admin" });
  await expect(panel).toBeVisible({ timeout: 120_000 });
  await expect(panel.getByText(`Needed: ${CONSENT_ROLE}.`)).toBeVisible();
  await panel.getByRole("button", { name: "Ask another admin" }).click();
  await expect(panel.getByRole("status").filter({ hasText: `Needs another admin — asked` })).toContainText(`by ${PLATFORM}`);
  const link = await panel.getByLabel("Link to this run").inputValue();
  expect(new URL(link).pathname).toBe(runPath);
  const message = await panel.getByLabel("Message for the other admin").inputValue();
  expect(message).toContain(`needs ${CONSENT_ROLE}`);
  expect(message).toContain("click Continue");
  expect(message).toContain(link);
  const mailto = await panel.getByRole("link", { name: "Email the request" }).getAttribute("href");
  expect(mailto).toMatch(/^mailto:\?subject=/);
  expect(decodeURIComponent(mailto ?? "")).toContain(link);

  // Admin B opens the link in another browser, signs in, lands on the run (returnTo kept) and continues it.
  const b = await browser.newPage();
  await b.goto(link);
  await b.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await b.getByRole("button", { name: OWNER }).click();
  await expect(b).toHaveURL(new RegExp(`${runPath}$`));
  const banner = b.getByRole("region", { name: `${PLATFORM} asked you to continue: needs ${CONSENT_ROLE}` });
  await expect(banner).toBeVisible();
  await banner.getByRole("button", { name: "Continue" }).click();
  await expect(b.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 150_000 });
  await expect(b.getByRole("region", { name: /needs another admin|asked you to continue/ })).toHaveCount(0);

  // The trail shows both actors: A's request and writes, B's continuation and the consent B granted.
  const trail = b.getByRole("table", { name: /Every Azure and Graph write/ });
  await expect(trail.getByRole("row").filter({ hasText: "run.handoff_requested" }).filter({ hasText: PLATFORM })).toHaveCount(1);
  await expect(trail.getByRole("row").filter({ hasText: "run.continued" }).filter({ hasText: OWNER })).toHaveCount(1);
  await expect(trail.getByRole("row").filter({ hasText: "azure.write (create)" }).filter({ hasText: PLATFORM }).first()).toBeVisible();
  await expect(trail.getByRole("row").filter({ hasText: "azure.write (grant)" }).filter({ hasText: OWNER }).first()).toBeVisible();

  const state = await simState(request);
  const grants = (state.graph.appRoleAssignments as Json[]).filter((g) => g.appRoleId === "e8f6e161-84d0-4cd7-9441-2d46ec9ec3d5");
  expect(grants).toHaveLength(1);
  await resetSimulator(request);
});
