// Shared e2e steps: signing in through the simulator's page, reading the simulator's state.
import fs from "node:fs";
import path from "node:path";
import { expect, type APIRequestContext, type Page } from "@playwright/test";
import { e2eEnv } from "./env";

export const OWNER = "owner@contoso.onmicrosoft.com";
export const READER = "reader@contoso.onmicrosoft.com";
export const { simulatorUrl } = e2eEnv();

/** Sign in from the landing page as `upn` (one click on the simulator's account picker). */
export async function signInAs(page: Page, upn: string) {
  await page.goto("/");
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await page.getByRole("button", { name: upn }).click();
  await expect(page).toHaveURL(/\/estate$/);
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
