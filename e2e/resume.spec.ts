import { expect, test, type Page } from "@playwright/test";
import { ownPortal } from "./portal";
import { OWNER, resetSimulator, reviewPlan, simState, simulatorUrl, type Json } from "./support";

// This spec runs its own portal (own port and database) so it can kill it with SIGKILL mid-run.
const portal = ownPortal(3101, "resume");
const portalUrl = portal.url;

function stepItem(page: Page, title: string) {
  return page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: title }) });
}

test("a run survives a server killed in the middle of the role assignments, after a write Azure made, without duplicates", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  await resetSimulator(request);
  // The third role assignment PUT is applied but its answer held: the server dies after Azure made the write and before
  // the portal heard of it, the case where a resume must not write twice.
  const hold = {
    name: "third role assignment",
    method: "PUT",
    path: "/providers/Microsoft\\.Authorization/roleAssignments/[^/]+$",
    nth: 3,
    phase: "after",
    ms: 60_000,
  };
  expect((await request.post(`${simulatorUrl}/_sim/holds`, { data: { rules: [hold] } })).ok()).toBe(true);

  await portal.start();
  try {
    await reviewPlan(page, OWNER, portalUrl);
    await page.getByRole("button", { name: "Confirm and start" }).click();
    await expect(page).toHaveURL(/\/onboarding\/[\w-]+$/);
    const runUrl = page.url();

    await expect(stepItem(page, "Role assignments").getByText("Running")).toBeVisible({ timeout: 120_000 });
    await expect
      .poll(
        async () =>
          ((await (await request.get(`${simulatorUrl}/_sim/holds`)).json()) as { holds: { heldAt: string | null }[] }).holds[0]?.heldAt ??
          null,
        {
          timeout: 60_000,
        },
      )
      .not.toBeNull();
    await portal.kill();

    await portal.start();
    await page.goto(runUrl);
    // Once the dead server's lease lapses the step is shown as interrupted, and any admin can resume it.
    await expect(stepItem(page, "Role assignments").getByText("Interrupted")).toBeVisible({ timeout: 40_000 });
    await page.getByRole("button", { name: "Resume" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 120_000 });
  } finally {
    await portal.kill();
    await request.delete(`${simulatorUrl}/_sim/holds`);
  }

  const state = await simState(request);
  const arm = state.arm as Json[];
  const ofType = (type: string) => arm.filter((r) => String(r.type).toLowerCase() === type.toLowerCase());
  const apps = (state.graph.applications as Json[]).filter((a) => a.uniqueName === "expel-aks-audit-reader");
  expect(apps).toHaveLength(1);
  expect(apps[0].passwordCredentials).toHaveLength(1);
  const sps = (state.graph.servicePrincipals as Json[]).filter((s) => s.appId === apps[0].appId);
  expect(sps).toHaveLength(1);
  expect(ofType("Microsoft.Storage/storageAccounts").filter((a) => String(a.name).startsWith("kubeaudit"))).toHaveLength(2);
  expect(ofType("Microsoft.Insights/diagnosticSettings").filter((s) => s.name === "aks-onboarding-kube-audit")).toHaveLength(4);
  // The read-only AKS role, the cluster metadata role and the Log Analytics query role.
  expect(ofType("Microsoft.Authorization/roleDefinitions").filter((r) => r.properties.type === "CustomRole")).toHaveLength(3);
  // The Log Analytics query role on 2 subscriptions, the AKS role on 4 clusters, Storage Blob Data Reader on 2 audit accounts.
  expect(ofType("Microsoft.Authorization/roleAssignments").filter((a) => a.properties.principalId === sps[0].id)).toHaveLength(8);
  expect(state.workbench.devices).toHaveLength(1);
});
