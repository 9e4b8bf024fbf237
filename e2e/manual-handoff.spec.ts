import { expect, test } from "@playwright/test";
import { ownPortal } from "./portal";
import { confirmAndFinish, OWNER, resetSimulator, reviewPlan, simState, simulatorUrl, type Json } from "./support";

const CONTOSO_TENANT = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";

// A portal without a Workbench API: the admin hands the credential over, seeing the secret exactly once.
const portal = ownPortal(3102, "manual", { WORKBENCH_URL: "", WORKBENCH_API_KEY: "" });

test("without a Workbench API, the secret is revealed once, works, and is gone after the hand-off", async ({ page, request }) => {
  test.setTimeout(180_000);
  await resetSimulator(request);
  await portal.start();
  try {
    await reviewPlan(page, OWNER, portal.url);
    await confirmAndFinish(page, 120_000);

    const panel = page.getByRole("region", { name: "Hand off to Expel" });
    await expect(panel).toBeVisible();
    const htmlBeforeReveal = await page.content();
    await expect(panel.getByRole("button", { name: "Reveal secret once" })).toBeDisabled();
    await panel.getByLabel("No one else can see my screen").check();
    await panel.getByRole("button", { name: "Reveal secret once" }).click();
    const secret = await panel.getByLabel("Client secret value").inputValue();
    expect(secret.length).toBeGreaterThan(20);
    expect(htmlBeforeReveal).not.toContain(secret);

    // The revealed value is the app's real credential: the vendor can sign in with it.
    const state = await simState(request);
    const app = (state.graph.applications as Json[]).find((a) => a.uniqueName === "expel-aks-audit-reader");
    const token = await request.post(`${simulatorUrl}/${CONTOSO_TENANT}/oauth2/v2.0/token`, {
      form: {
        grant_type: "client_credentials",
        client_id: app.appId,
        client_secret: secret,
        scope: "https://management.azure.com/.default",
      },
    });
    expect(token.status()).toBe(200);

    await panel.getByRole("button", { name: "I've given these to Expel" }).click();
    await expect(panel.getByRole("status").filter({ hasText: `Handed off manually by ${OWNER}` })).toBeVisible();
    await page.reload();
    expect(await page.content()).not.toContain(secret);
    await expect(page.getByText("Deleted from the portal after the hand-off.")).toBeVisible();
    expect(state.workbench.devices).toHaveLength(0);
  } finally {
    await portal.kill();
  }
});
