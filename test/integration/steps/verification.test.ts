// verification step against the simulator: a fresh secret is retried until Entra accepts it, clusters and audit blobs
// are read as the app, the ABAC condition keeps it out of another account, logs go from waiting to a newest blob time.
import { BlobServiceClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_SECRET_KIND, appRegistrationStep } from "../../../lib/steps/app-registration";
import { customRoleStep } from "../../../lib/steps/custom-role";
import { diagnosticSettingsStep } from "../../../lib/steps/diagnostic-settings";
import { roleAssignmentsStep } from "../../../lib/steps/role-assignments";
import { storageStep } from "../../../lib/steps/storage";
import type { StepModule } from "../../../lib/steps/types";
import { VerificationFailedError, verificationStep } from "../../../lib/steps/verification";
import type { VerificationCheck, VerificationOutput } from "../../../lib/steps/verification-results";
import type { ArmResource } from "../../../simulator/src/contract";
import type { RunningSimulator } from "../../../simulator/src/index";
import { simJson } from "../../../simulator/src/testing";
import { SUB_PROD, sleep, startSimForPortal } from "../azure/support";
import { defaultRunConfig, testStepContext, type TestStepContext } from "./context";
import { applyWithRetries } from "./retry";

let sim: RunningSimulator;
let t: TestStepContext;
const SBDR = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";

beforeAll(async () => {
  sim = await startSimForPortal({ blob: true, kubeAuditIntervalMs: 600_000 });
  // A window longer than acquireFirstToken's first retry: the first verification must wait it out.
  expect((await simJson(sim, "POST", "/_sim/latency", { body: { secretPropagationMs: 6_000 } })).status).toBe(200);
  t = testStepContext(sim);
  const steps: StepModule[] = [storageStep, diagnosticSettingsStep, appRegistrationStep, customRoleStep, roleAssignmentsStep];
  for (const step of steps) t.ctx.outputs[step.id] = (await applyWithRetries(step, t.ctx)).result;
  t.ctx.outputs["workbench-handoff"] = { mode: "api", deviceId: "device-1", deviceName: "aks-onboarding test" };
}, 240_000);

/** The writer delivers a first batch as soon as a setting appears: let that land, then remove it ("no logs yet"). */
async function deleteKubeAuditBlobs(): Promise<void> {
  await sleep(3_000);
  for (const name of defaultRunConfig().storage.map((s) => s.accountName)) {
    const container = new BlobServiceClient(
      `${sim.blobUrl}/${name}`,
      new StorageSharedKeyCredential(name, sim.state().storageKey(name)),
    ).getContainerClient("insights-logs-kube-audit");
    if (!(await container.exists())) continue;
    for await (const b of container.listBlobsFlat()) await container.deleteBlob(b.name);
  }
}
afterAll(async () => sim?.close());

async function run(): Promise<{ out: VerificationOutput | null; error: unknown; writes: string[] }> {
  const before = t.writes.length;
  try {
    const out = await verificationStep.apply(t.ctx, await verificationStep.read(t.ctx));
    return { out, error: null, writes: t.writes.slice(before).map((w) => `${w.kind}:${w.status}`) };
  } catch (error) {
    return {
      out: error instanceof VerificationFailedError ? error.output : null,
      error,
      writes: t.writes.slice(before).map((w) => `${w.kind}:${w.status}`),
    };
  }
}

const byPrefix = (out: VerificationOutput | null, prefix: string): VerificationCheck[] =>
  (out?.checks ?? []).filter((c) => c.id.startsWith(prefix));
const verificationSecrets = () =>
  sim
    .state()
    .graph.applications.flatMap((a) =>
      (a.passwordCredentials as { displayName: string | null }[]).filter((p) => p.displayName === "AKS onboarding verification"),
    );

describe("verification step", () => {
  it("retries the fresh run secret until Entra accepts it, passes every reachable check, then deletes the secret", async () => {
    expect(t.secrets.has(CLIENT_SECRET_KIND)).toBe(true);
    await deleteKubeAuditBlobs();
    // As right after App registration: the run's secret is still inside Entra's propagation window.
    for (const secret of sim.state().secrets) secret.createdAt = Date.now();
    expect(verificationStep.plan(t.ctx, await verificationStep.read(t.ctx))).toEqual([]);
    const { out, error, writes } = await run();
    expect(error).toBeNull();
    expect(writes).toEqual([]);
    expect(out?.credential).toBe("run-secret");
    const signIn = byPrefix(out, "sign-in")[0];
    expect(signIn).toMatchObject({ status: "pass", reason: expect.stringContaining("attempts") });
    expect(byPrefix(out, "aks-read:").map((c) => c.status)).toEqual(["pass", "pass", "pass", "pass"]);
    expect(byPrefix(out, "aks-list:").every((c) => c.status === "pass")).toBe(true);
    expect(byPrefix(out, "blob-list:").map((c) => c.status)).toEqual(["pass", "pass"]);
    expect(byPrefix(out, "logs:").map((c) => c.status)).toEqual(["waiting", "waiting", "waiting", "waiting"]);
    expect(byPrefix(out, "logs:")[0]?.reason).toMatch(/^Waiting for first logs/);
    expect(byPrefix(out, "abac:")).toEqual([
      expect.objectContaining({ status: "skipped", reason: "Not tested: no other storage account in this subscription." }),
    ]);
    expect(byPrefix(out, "storage-scope")).toEqual([
      expect.objectContaining({ status: "skipped", reason: "Not tested: no other account to test in the selected subscriptions." }),
    ]);
    expect(byPrefix(out, "container-list")).toEqual([
      expect.objectContaining({ status: "skipped", reason: "Not tested: no other account to test in the selected subscriptions." }),
    ]);
    expect(byPrefix(out, "log-analytics:").some((c) => c.status === "pass")).toBe(true);
    // Every default cluster has Microsoft Entra integration: no user credential to refuse.
    expect(byPrefix(out, "aks-credential:")).toEqual([]);
    expect(byPrefix(out, "log-analytics:").map((c) => [c.status, c.reason])).toEqual([
      ["pass", "A query on law-prod-eastus returned 1 row."],
      ["skipped", "Not tested: no Log Analytics workspace in this subscription."],
    ]);
    expect(t.secrets.has(CLIENT_SECRET_KIND)).toBe(false);
    expect(await verificationStep.verify(t.ctx, out as VerificationOutput)).toMatchObject({ ok: true });
  }, 120_000);

  it("after the first logs arrive, reports each cluster's newest blob, with a one-hour secret it removes again", async () => {
    await simJson(sim, "POST", "/_sim/latency", { body: { secretPropagationMs: 0 } });
    // The writer notices the blobs deleted above on its first append (404) and recreates them on the next.
    await simJson(sim, "POST", "/_sim/kube-audit/flush");
    const flushed = await simJson(sim, "POST", "/_sim/kube-audit/flush");
    expect(flushed.body.blobs).toHaveLength(4);
    const { out, error, writes } = await run();
    expect(error).toBeNull();
    expect(out?.credential).toBe("verification-secret");
    expect(writes).toEqual(["create:succeeded", "delete:succeeded"]);
    expect(verificationSecrets()).toEqual([]);
    const logs = byPrefix(out, "logs:");
    expect(logs.map((c) => c.status)).toEqual(["pass", "pass", "pass", "pass"]);
    for (const c of logs) expect(Date.now() - Date.parse(c.newestBlobAt ?? "")).toBeLessThan(120_000);
    expect(byPrefix(out, "blob-read:").map((c) => c.status)).toEqual(["pass", "pass"]);
  }, 120_000);

  it("proves the ABAC condition with another account of the subscription, and fails clearly when it doesn't hold", async () => {
    const other: ArmResource = {
      id: `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod-eastus/providers/Microsoft.Storage/storageAccounts/payrollrecords01`,
      name: "payrollrecords01",
      type: "Microsoft.Storage/storageAccounts",
      location: "eastus",
      kind: "StorageV2",
      sku: { name: "Standard_LRS", tier: "Standard" },
      properties: { provisioningState: "Succeeded", primaryEndpoints: { blob: `${sim.blobUrl}/payrollrecords01/` } },
    };
    sim.state().putArm(other);
    sim.state().events.emit("storageAccountCreated", other);
    const passing = await run();
    expect(passing.error).toBeNull();
    expect(byPrefix(passing.out, "abac:")).toEqual([
      expect.objectContaining({
        status: "pass",
        reason: expect.stringContaining("Storage refused the app in payrollrecords01 (AuthorizationPermissionMismatch)"),
      }),
    ]);
    expect(byPrefix(passing.out, "storage-scope")).toEqual([
      expect.objectContaining({ status: "pass", reason: expect.stringContaining("user delegation key in payrollrecords01") }),
    ]);
    expect(byPrefix(passing.out, "container-list")).toEqual([
      expect.objectContaining({ status: "pass", reason: expect.stringContaining("list of containers in payrollrecords01") }),
    ]);

    // Someone grants the app Storage Blob Data Reader without a condition: the check catches it.
    const app = t.ctx.outputs["app-registration"] as { servicePrincipalId: string };
    sim.state().putArm({
      id: `${other.id}/providers/Microsoft.Authorization/roleAssignments/0d9f6f0e-7a0b-4c55-8a43-4f1e8d1c2b3a`,
      name: "0d9f6f0e-7a0b-4c55-8a43-4f1e8d1c2b3a",
      type: "Microsoft.Authorization/roleAssignments",
      properties: {
        roleDefinitionId: `/subscriptions/${SUB_PROD}/providers/Microsoft.Authorization/roleDefinitions/${SBDR}`,
        principalId: app.servicePrincipalId,
        principalType: "ServicePrincipal",
        scope: other.id,
      },
    });
    const failing = await run();
    expect(failing.error).toBeInstanceOf(VerificationFailedError);
    expect((failing.error as Error).message).toMatch(
      /^Verification failed: No blob access outside the audit accounts in Contoso Production: The app can list blobs in payrollrecords01/,
    );
    // Every check is still reported, and the temporary secret is gone.
    expect(failing.out?.checks.length).toBe(passing.out?.checks.length);
    expect(byPrefix(failing.out, "abac:")[0]?.status).toBe("fail");
    expect(byPrefix(failing.out, "storage-scope")[0]).toMatchObject({
      status: "fail",
      reason: expect.stringContaining("got a user delegation key in payrollrecords01"),
    });
    // Storage Blob Data Reader's containers/read isn't gated by any condition: the app lists that account's containers.
    expect(byPrefix(failing.out, "container-list")[0]).toMatchObject({
      status: "fail",
      reason: expect.stringContaining("can list the containers of payrollrecords01"),
    });
    expect(verificationSecrets()).toEqual([]);
  }, 120_000);

  it("skips the kube-audit check of a cluster the diagnostic-settings step left out, and verifies the rest", async () => {
    const [left, ...rest] = defaultRunConfig().clusters;
    const before = t.ctx.outputs["diagnostic-settings"];
    t.ctx.outputs["diagnostic-settings"] = {
      ...(before as object),
      blocked: [
        {
          clusterId: left!.id,
          clusterName: left!.name,
          code: "diagnostic_settings_limit",
          reason: "It already has five diagnostic settings, Azure's limit.",
          action: "Remove one, then extend the run.",
        },
      ],
    };
    try {
      const { out } = await run();
      const logs = byPrefix(out, "logs:");
      expect(logs.find((c) => c.id === `logs:${left!.id}`)).toMatchObject({
        status: "skipped",
        reason: "Skipped — needs attention: It already has five diagnostic settings, Azure's limit.",
      });
      expect(logs.filter((c) => c.id !== `logs:${left!.id}`).map((c) => c.id)).toEqual(rest.map((c) => `logs:${c.id}`));
      expect(logs.filter((c) => c.id !== `logs:${left!.id}`).every((c) => c.status === "pass")).toBe(true);
      // The cluster itself still exists and is still read.
      expect(byPrefix(out, "aks-read:").map((c) => c.status)).toEqual(["pass", "pass", "pass", "pass"]);
    } finally {
      t.ctx.outputs["diagnostic-settings"] = before;
    }
  }, 120_000);
});
