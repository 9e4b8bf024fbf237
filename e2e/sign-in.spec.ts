import { expect, test } from "@playwright/test";
import { clearRequests, OWNER, READER, resetSimulator, signInAs, simulatorUrl } from "./support";

test("an Owner signs in and sees both subscriptions with their four clusters", async ({ page, request }) => {
  await resetSimulator(request);
  await clearRequests(request);
  await signInAs(page, OWNER);
  await expect(page.getByRole("heading", { name: "Your Azure estate" })).toBeVisible();
  await expect(page.getByRole("status")).toHaveText("2 subscriptions, 4 AKS clusters in 2 regions");
  const subscriptions = page.getByRole("region").filter({ has: page.getByRole("table") });
  await expect(subscriptions).toHaveCount(2);
  // Each cluster is a row header in its region's table.
  await expect(page.getByRole("table").getByRole("rowheader")).toHaveCount(4);
  for (const sub of await subscriptions.all()) {
    await expect(sub.getByText(/You can create role assignments here \(.*Owner.*\)/)).toBeVisible();
  }
  await expect(page.getByText("Signed in as")).toContainText("Olivia Owner");

  // The simulator saw the portal read the estate with the owner's own delegated token, and nothing else.
  const log = (await (await request.get(`${simulatorUrl}/_sim/requests`)).json()) as {
    method: string;
    url: string;
    caller: string | null;
  }[];
  const portalCalls = log.filter((r) => r.caller === OWNER);
  expect(portalCalls.some((r) => /^\/subscriptions\?/.test(r.url))).toBe(true);
  expect(portalCalls.filter((r) => /managedClusters/i.test(r.url))).toHaveLength(2);
  expect(portalCalls.some((r) => /roleAssignments/i.test(r.url) && r.url.includes("assignedTo"))).toBe(true);
  expect(portalCalls.every((r) => r.method === "GET")).toBe(true);
});

test("a Reader sees the estate but is told role assignments can't be created", async ({ page }) => {
  await signInAs(page, READER);
  await expect(page.getByRole("status")).toHaveText("2 subscriptions, 4 AKS clusters in 2 regions");
  await expect(page.getByText("You can't create role assignments in this subscription.")).toHaveCount(2);
  await expect(page.getByText(/You can create role assignments here/)).toHaveCount(0);
});

test("a callback with a forged state shows an error and creates no session", async ({ page, context }) => {
  await page.goto("/");
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  // A real sign-in is pending in this browser; the attacker's callback carries another state.
  await page.goto("/auth/callback?code=stolen-code&state=forged-state");
  await expect(page.getByRole("heading", { name: "Sign-in failed" })).toBeVisible();
  await expect(page.getByRole("alert").filter({ hasText: "does not belong to a sign-in started in this browser" })).toBeVisible();
  expect((await context.cookies()).some((c) => c.name === "aks_session")).toBe(false);
  await page.goto("/estate");
  await expect(page.getByRole("link", { name: "Sign in with Microsoft" })).toBeVisible();
});

test("a forged code with this browser's own state is refused, and the state can't be replayed", async ({ page, context }) => {
  await page.goto("/");
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  const state = (await context.cookies()).find((c) => c.name === "aks_sign_in")?.value;
  expect(state).toBeTruthy();
  await page.goto(`/auth/callback?code=forged-code&state=${state}`);
  await expect(page.getByRole("alert").filter({ hasText: "Microsoft sign-in did not complete" })).toBeVisible();
  // The pending sign-in was consumed: the same state is now refused as expired.
  await context.addCookies([{ name: "aks_sign_in", value: state ?? "", url: page.url() }]);
  await page.goto(`/auth/callback?code=forged-code&state=${state}`);
  await expect(page.getByRole("alert").filter({ hasText: "took too long or was already used" })).toBeVisible();
  expect((await context.cookies()).some((c) => c.name === "aks_session")).toBe(false);
});

test("signing out ends the session for good", async ({ page, context }) => {
  await signInAs(page, OWNER);
  const session = (await context.cookies()).find((c) => c.name === "aks_session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Lax");
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("link", { name: "Sign in with Microsoft" })).toBeVisible();
  // Replaying the old cookie must not bring the session back.
  if (!session) throw new Error("no session cookie was set");
  await context.addCookies([session]);
  await page.goto("/estate");
  await expect(page.getByRole("link", { name: "Sign in with Microsoft" })).toBeVisible();
});
