// Shared e2e steps: signing in through the simulator's page, reading the simulator's state.
import fs from "node:fs";
import path from "node:path";
import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { e2eEnv } from "./env";

export const OWNER = "owner@contoso.onmicrosoft.com";
export const READER = "reader@contoso.onmicrosoft.com";
export const ENGINEER = "engineer@expelvendor.onmicrosoft.com";
export const { simulatorUrl } = e2eEnv();

/** Sign in from the landing page as `upn` (one click on the simulator's account picker); `portalUrl` names a spec's own portal. */
export async function signInAs(page: Page, upn: string, portalUrl = "") {
  await page.goto(`${portalUrl}/`);
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await page.getByRole("button", { name: upn }).click();
  await expect(page).toHaveURL(/\/estate$/);
}

/** Sign in as the vendor's engineer (simulator default.json's extra tenant), who lands on the vendor view. */
export async function signInAsEngineer(page: Page) {
  await page.goto("/");
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await page.getByRole("button", { name: ENGINEER }).click();
  await expect(page).toHaveURL(/\/vendor$/);
}

/** Sign in as `upn`, open New onboarding with its suggested choices (both names checked) and review the plan. */
export async function reviewPlan(page: Page, upn = OWNER, portalUrl = "") {
  await signInAs(page, upn, portalUrl);
  await page.getByRole("link", { name: "Start onboarding" }).click();
  await expect(page.getByText("Available.")).toHaveCount(2);
  await page.getByRole("button", { name: "Review the plan" }).click();
  await expect(page).toHaveURL(/\/onboarding\/[\w-]+\/plan$/);
}

/** Confirm the plan on the page and wait until the run page says "Onboarding complete". */
export async function confirmAndFinish(page: Page, timeout = 150_000) {
  await page.getByRole("button", { name: "Confirm and start" }).click();
  await expect(page).toHaveURL(/\/onboarding\/[\w-]+$/);
  await expect(page.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions navigate the simulator's JSON
export type Json = any;

/** GET /_sim/state: every ARM resource, Graph object and Workbench device. */
export async function simState(request: APIRequestContext): Promise<Json> {
  const res = await request.get(`${simulatorUrl}/_sim/state`);
  expect(res.ok()).toBe(true);
  return res.json();
}

/** Reset the simulator to a scenario file (default: Contoso), i.e. a fresh Azure. */
export async function resetSimulator(request: APIRequestContext, scenario = "default.json") {
  const body: unknown = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "simulator", "scenarios", scenario), "utf8"));
  const res = await request.post(`${simulatorUrl}/_sim/reset`, { data: body });
  expect(res.ok()).toBe(true);
}

/** Forget the simulator's request log, so a test sees only the requests it caused. */
export async function clearRequests(request: APIRequestContext) {
  const res = await request.delete(`${simulatorUrl}/_sim/requests`);
  expect(res.status()).toBe(204);
}
