import { expect, test, type Page } from "@playwright/test";
import { ownPortal } from "./portal";
import { OWNER, resetSimulator, simState, type Json } from "./support";

const CONTOSO_TENANT = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";
const SUBSCRIPTIONS = ["602d1a18-a35e-4b89-a27e-56cb26da2c7b", "2cf36c9a-02f4-41d4-b097-7345a8e2806e"];
const OWNER_OBJECT_ID = "19281c3c-2885-478e-89dc-99a15ac5710a";
const BADGE = "Presenter mode — ids masked, secrets hidden";

// A portal without a Workbench API, so the run ends with the manual hand-off panel and its one-time secret.
const portal = ownPortal(3103, "presenter", { WORKBENCH_URL: "", WORKBENCH_API_KEY: "" });

test("presenter mode masks every id, never renders the secret and refuses to reveal it", async ({ page, context, request }) => {
  test.setTimeout(240_000);
  await resetSimulator(request);
  await portal.start();
  const ids = [CONTOSO_TENANT, ...SUBSCRIPTIONS, OWNER_OBJECT_ID];
  // Every HTML captured while presenter mode was on; none may ever contain the secret.
  const presenterHtml: { what: string; html: string }[] = [];
  async function captureMasked(p: Page, what: string) {
    const html = await p.content();
    presenterHtml.push({ what, html });
    for (const id of ids) expect(html, `${what} contains ${id}`).not.toContain(id);
    expect(html, `${what} contains the secret hint`).not.toContain("starts with");
  }
  const toggle = (p: Page, pressed: boolean) => p.getByRole("button", { name: "Presenter mode", pressed });

  try {
    await page.goto(`${portal.url}/?present=1`);
    await expect(page).toHaveURL(`${portal.url}/`);
    await expect(page.getByText(BADGE)).toBeVisible();
    await expect(toggle(page, true)).toBeVisible();

    await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
    await page.getByRole("button", { name: OWNER }).click();
    await expect(page).toHaveURL(/\/estate$/);
    await expect(page.getByText(BADGE)).toBeVisible();
    await expect(page.getByRole("region", { name: "Contoso Production" }).getByText("602d…2c7b", { exact: true })).toBeVisible();
    await captureMasked(page, "estate");

    await page.getByRole("link", { name: "Start onboarding" }).click();
    await expect(page.getByText("Available.")).toHaveCount(2);
    await page.getByRole("button", { name: "Review the plan" }).click();
    await expect(page.getByRole("heading", { name: "Review the plan" })).toBeVisible();
    await expect(page.getByText(/\/subscriptions\/602d…2c7b/).first()).toBeVisible();
    await captureMasked(page, "plan");
    await page.getByRole("button", { name: "Confirm and start" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 120_000 });
    const runUrl = page.url();

    const state = await simState(request);
    const app = (state.graph.applications as Json[]).find((a) => a.uniqueName === "expel-aks-audit-reader");
    const sp = (state.graph.servicePrincipals as Json[] | undefined)?.find((s) => s.appId === app.appId);
    ids.push(app.appId as string, app.id as string, ...(sp ? [sp.id as string] : []));
    await page.reload();
    await expect(page.getByText(BADGE)).toBeVisible();
    await captureMasked(page, "run page");
    for (const { what, html } of presenterHtml) for (const id of ids) expect(html, `${what} contains ${id}`).not.toContain(id);

    const panel = page.getByRole("region", { name: "Hand off to Expel" });
    await expect(panel.getByText("c88c…e8fc", { exact: true })).toBeVisible();
    await expect(panel.getByText(`${String(app.appId).slice(0, 4)}…${String(app.appId).slice(-4)}`, { exact: true })).toBeVisible();
    await expect(panel.getByRole("button", { name: /^Copy (Tenant|Client) ID$/ })).toHaveCount(0);
    await expect(panel.getByRole("button", { name: "Reveal secret once" })).toHaveCount(0);
    await expect(panel.getByText("Turn presenter mode off, off-screen, to reveal the secret.")).toBeVisible();
    await expect(page.getByRole("link", { name: /client ID/ })).toHaveCount(0);

    // The server refuses too: a tab rendered before presenter mode came back on asks for the reveal, and gets nothing.
    const other = await context.newPage();
    await other.goto(`${runUrl}?present=0`);
    await expect(toggle(other, false)).toBeVisible();
    const otherPanel = other.getByRole("region", { name: "Hand off to Expel" });
    await otherPanel.getByLabel("No one else can see my screen").check();
    await page.goto(`${runUrl}?present=1`);
    await expect(page.getByText(BADGE)).toBeVisible();
    await captureMasked(page, "run page, on again");
    await otherPanel.getByRole("button", { name: "Reveal secret once" }).click();
    await expect(otherPanel.getByRole("alert")).toContainText("Presenter mode is on, so the secret can't be revealed");
    await expect(otherPanel.getByLabel("Client secret value")).toHaveCount(0);
    await expect(otherPanel.getByText("Turn presenter mode off, off-screen, to reveal the secret.")).toBeVisible();
    presenterHtml.push({ what: "refused tab", html: await other.content() });
    await other.close();

    // Off again from the header toggle: the full ids are back, and the secret is revealed once, only now.
    await toggle(page, true).click();
    await expect(toggle(page, false)).toBeVisible();
    await expect(page).toHaveURL(runUrl);
    await expect(page.getByText(BADGE)).toHaveCount(0);
    expect(await page.content()).toContain(CONTOSO_TENANT);
    await panel.getByLabel("No one else can see my screen").check();
    await panel.getByRole("button", { name: "Reveal secret once" }).click();
    const secret = await panel.getByLabel("Client secret value").inputValue();
    expect(secret.length).toBeGreaterThan(20);
    expect(presenterHtml.length).toBeGreaterThanOrEqual(5);
    for (const { what, html } of presenterHtml) expect(html, `${what} contains the secret`).not.toContain(secret);
  } finally {
    await portal.kill();
  }
});
