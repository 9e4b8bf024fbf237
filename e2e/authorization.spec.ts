import "../scripts/server-only-shim";
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { ACTION_DECISIONS } from "../lib/authz/actions";
import { e2eEnv } from "./env";
import { confirmAndFinish, READER, resetSimulator, reviewPlan, signInAs, simulatorUrl } from "./support";

// Who may act, in the browser and over HTTP: a Reader of the tenant follows a finished run but gets no control, and every
// server action of the build, posted directly, is refused and changes nothing.
type Manifest = { node: Record<string, { exportedName?: string }> };
const manifest = () =>
  JSON.parse(fs.readFileSync(path.join(e2eEnv().root, ".next-test", "server", "server-reference-manifest.json"), "utf8")) as Manifest;

test("every server action of the build has an authorization decision", () => {
  const exported = [...new Set(Object.values(manifest().node).map((a) => a.exportedName ?? ""))].sort();
  expect(exported.length).toBeGreaterThanOrEqual(13);
  // A new action without an entry in lib/authz/actions.ts fails here, before anyone can post it.
  expect(exported.filter((name) => !(name in ACTION_DECISIONS))).toEqual([]);
});

test("a Reader follows a finished run without controls, and each action posted directly is refused", async ({ browser, request }) => {
  test.setTimeout(240_000);
  await resetSimulator(request);
  const owner = await browser.newPage();
  await reviewPlan(owner);
  await confirmAndFinish(owner);
  const runUrl = new URL(owner.url()).pathname;
  // The Owner (a Cloud Application Administrator) has every control.
  await expect(owner.getByRole("button", { name: "Rotate secret" })).toBeVisible();
  await expect(owner.getByRole("link", { name: "Remove what this run created" })).toBeVisible();

  const readerContext = await browser.newContext();
  const reader = await readerContext.newPage();
  await signInAs(reader, READER);
  await reader.goto(runUrl);
  await expect(reader.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible();
  await expect(reader.getByText("Some actions need another admin")).toBeVisible();
  for (const name of ["Rotate secret", "Run verification again", "Retry", "Resume", "Extend the run"])
    await expect(reader.getByRole("button", { name })).toHaveCount(0);
  await expect(reader.getByRole("link", { name: "Remove what this run created" })).toHaveCount(0);
  await expect(reader.getByText(/starts with/i)).toHaveCount(0);
  await reader.goto(`${runUrl}/offboard`);
  await expect(reader.getByRole("button", { name: /^Remove \d+ resources?$/ })).toHaveCount(0);
  await expect(reader.getByText("You can review what would be removed")).toBeVisible();

  // Posted directly, as a script would: every acting action is refused; nothing reaches Azure.
  const since = new Date().toISOString();
  const actions = Object.entries(manifest().node).filter(([, a]) => a.exportedName && a.exportedName in ACTION_DECISIONS);
  // Valid input for each, so what refuses it is the decision: the two plan actions take JSON, the rest the run's form.
  const sub = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
  const storage = { region: "eastus", subscriptionId: sub, resourceGroup: "rg-aks-audit", accountName: "kubeauditreader01" };
  const jsonInput: Record<string, unknown> = {
    checkStorageNameAction: { subscriptionId: sub, resourceGroup: storage.resourceGroup, accountName: storage.accountName },
    createRunAction: {
      subscriptionIds: [sub],
      clusterIds: [
        `/subscriptions/${sub}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.ContainerService/managedClusters/aks-payments-prod`,
      ],
      storage: [storage],
      restrictNetwork: false,
      retentionDays: 30,
      secretLifetimeDays: 180,
    },
  };
  // On a completed run these pass the lifecycle check, so the refusal is the authorization's; the others may be
  // refused by the run's state first (confirm a completed run), which is a refusal too.
  const actingOnCompleted = [
    "revealSecretAction",
    "acknowledgeHandoffAction",
    "rotateSecretAction",
    "rerunVerificationAction",
    "startOffboardingAction",
    "extendCoverageAction",
  ];
  const runId = runUrl.split("/").pop()!;
  for (const [id, a] of actions) {
    const name = a.exportedName as keyof typeof ACTION_DECISIONS;
    const input = jsonInput[name];
    // Posted by a script in the Reader's own browser, encoded as React encodes (prevState, formData): the form's fields
    // carry the "_1_" prefix of its "$K1" reference (Playwright's own multipart encoding isn't decoded as a FormData).
    const { status, body } = await reader.evaluate(
      async ({ id, runUrl, runId, input }) => {
        let payload: BodyInit;
        if (input) payload = JSON.stringify([input]);
        else {
          const form = new FormData();
          form.append("_1_runId", runId);
          form.append("_1_planHash", "0".repeat(64));
          form.append("_1_cluster", "0123456789abcdef01234567");
          form.append("0", '[null,"$K1"]');
          payload = form;
        }
        const res = await fetch(runUrl, {
          method: "POST",
          headers: { "next-action": id, accept: "text/x-component", ...(input ? { "content-type": "text/plain;charset=UTF-8" } : {}) },
          body: payload,
          redirect: "manual",
        });
        return { status: res.status, body: await res.text() };
      },
      { id, runUrl, runId, input: input ?? null },
    );
    expect(status, `${name}: ${body.slice(0, 200)}`).toBeLessThan(500);
    if (input || actingOnCompleted.includes(name)) expect(body, name).toContain('"code":"not_permitted"');
    else if (ACTION_DECISIONS[name] !== "view") expect(body, name).toMatch(/"code":"(not_permitted|conflict)"/);
  }
  const log = (await (await request.get(`${simulatorUrl}/_sim/requests?since=${encodeURIComponent(since)}`)).json()) as {
    method: string;
    url: string;
  }[];
  expect(log.filter((r) => r.method !== "GET" && !/checkNameAvailability/i.test(r.url)).map((r) => `${r.method} ${r.url}`)).toEqual([]);
  await owner.reload();
  await expect(owner.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible();
  await readerContext.close();
});
