// workbench-handoff step and the Workbench client against the simulator's Workbench API.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyAzureError } from "../../../lib/azure/errors";
import { listWorkbenchDevices } from "../../../lib/workbench/list-devices";
import { registerWorkbenchDevice } from "../../../lib/workbench/register-device";
import { workbenchConfig, WorkbenchError } from "../../../lib/workbench/client";
import { appRegistrationStep, CLIENT_SECRET_KIND, type AppRegistrationOutput } from "../../../lib/steps/app-registration";
import { workbenchDeviceName, workbenchHandoffStep, type WorkbenchHandoffOutput } from "../../../lib/steps/workbench-handoff";
import type { RunningSimulator } from "../../../simulator/src/index";
import { TEST_WORKBENCH_KEY } from "../../../simulator/src/testing";
import { azureError, clearRequests, simRequests, simState, startSimForPortal, TENANT } from "../azure/support";
import { defaultRunConfig, testStepContext, type TestStepContext } from "./context";

let sim: RunningSimulator;
const RUN = "run-handoff-main";
const ACCOUNTS = defaultRunConfig()
  .storage.map((s) => s.accountName)
  .sort();

beforeAll(async () => {
  sim = await startSimForPortal();
  // Before the first env() call: env() is read once per test process.
  process.env.WORKBENCH_URL = `${sim.url}/workbench`;
  process.env.WORKBENCH_API_KEY = TEST_WORKBENCH_KEY;
});
afterAll(async () => sim.close());

interface StoredDevice {
  id: string;
  name: string;
  description: string;
  device_type: string;
  credentials: Record<string, string>;
  storage_accounts: string[];
}

async function devices(): Promise<StoredDevice[]> {
  return (await simState(sim)).workbench.devices as StoredDevice[];
}

describe("workbench-handoff step", () => {
  let t: TestStepContext;
  let app: AppRegistrationOutput;
  let secret = "";
  let out: WorkbenchHandoffOutput;

  it("plans one device on a fresh Workbench, after the app registration stored the secret", async () => {
    await clearRequests(sim);
    t = testStepContext(sim, { runId: RUN });
    app = await appRegistrationStep.apply(t.ctx, await appRegistrationStep.read(t.ctx));
    t.ctx.outputs["app-registration"] = app;
    secret = t.secrets.get(CLIENT_SECRET_KIND)?.value ?? "";
    expect(secret.length).toBeGreaterThan(20);
    const live = await workbenchHandoffStep.read(t.ctx);
    expect(live).toEqual({ mode: "api", deviceName: workbenchDeviceName(RUN), existing: null, secretStored: true });
    const plan = workbenchHandoffStep.plan(t.ctx, live);
    expect(plan).toEqual([
      expect.objectContaining({ action: "create", resourceType: "Workbench device", resource: workbenchDeviceName(RUN) }),
    ]);
    expect(plan[0]?.details).toContain(`storage_accounts: ${ACCOUNTS.join(", ")}`);
    expect(JSON.stringify(plan)).not.toContain(secret);
  });

  it("registers the device with the right fields and keeps the stored secret for Verification", async () => {
    const writesBefore = t.writes.length;
    out = await workbenchHandoffStep.apply(t.ctx, await workbenchHandoffStep.read(t.ctx));
    expect(out).toEqual({ mode: "api", deviceId: expect.any(String), deviceName: workbenchDeviceName(RUN) });
    expect(t.writes.slice(writesBefore).map((w) => [w.kind, w.status])).toEqual([["create", "succeeded"]]);
    // The first Verification signs in with it, then deletes it.
    expect(t.secrets.has(CLIENT_SECRET_KIND)).toBe(true);
    const stored = await devices();
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      id: out.mode === "api" ? out.deviceId : "",
      name: workbenchDeviceName(RUN),
      device_type: "Azure Kubernetes Service",
      credentials: { tenant_id: TENANT, client_id: app.appId, client_secret_hint: secret.slice(0, 3) },
      storage_accounts: ACCOUNTS,
    });
  });

  it("never shows the secret in any logged request body; the Workbench POST is redacted too", async () => {
    const requests = await simRequests(sim);
    expect(JSON.stringify(requests)).not.toContain(secret);
    const posts = requests.filter((r) => r.method === "POST" && r.url.includes("/workbench/api/v1/security-devices"));
    expect(posts).toHaveLength(1);
    expect(posts[0]?.body.credentials.client_secret).toBe("***");
    expect(JSON.stringify({ writes: t.writes, progress: t.progress, out })).not.toContain(secret);
  });

  it("adopts its device on a re-run: no change, zero writes, verify passes", async () => {
    const live = await workbenchHandoffStep.read(t.ctx);
    expect(workbenchHandoffStep.plan(t.ctx, live).map((c) => c.action)).toEqual(["no-change"]);
    await clearRequests(sim);
    const writesBefore = t.writes.length;
    expect(await workbenchHandoffStep.apply(t.ctx, live)).toEqual(out);
    expect(t.writes.length).toBe(writesBefore);
    expect((await simRequests(sim)).filter((r) => r.method !== "GET")).toEqual([]);
    expect(await workbenchHandoffStep.verify(t.ctx, out)).toMatchObject({ ok: true });
    expect(await devices()).toHaveLength(1);
  });

  it("keeps a secret still stored when the device already exists (crash after the POST), for Verification", async () => {
    t.secrets.set(CLIENT_SECRET_KIND, {
      value: "left-over",
      keyId: app.secret?.keyId ?? "",
      hint: "lef",
      expiresAt: new Date(Date.now() + 86_400_000),
    });
    expect(await workbenchHandoffStep.apply(t.ctx, await workbenchHandoffStep.read(t.ctx))).toEqual(out);
    expect(t.secrets.has(CLIENT_SECRET_KIND)).toBe(true);
    expect(await workbenchHandoffStep.verify(t.ctx, out)).toMatchObject({ ok: true });
    expect(await devices()).toHaveLength(1);
  });

  it("refuses to register a device without this run's stored secret, saying how to recover", async () => {
    const other = testStepContext(sim, { runId: "run-handoff-nosecret", outputs: { "app-registration": app } });
    const live = await workbenchHandoffStep.read(other.ctx);
    expect(workbenchHandoffStep.plan(other.ctx, live)[0]?.why).toContain("no longer stored");
    const error = await azureError(workbenchHandoffStep.apply(other.ctx, live));
    expect(error.message).toContain('Remove the secret "aks-onboarding run-handoff-nosecret"');
    expect(await devices()).toHaveLength(1);
  });
});

describe("Workbench client", () => {
  it("reads its configuration from the portal env", () => {
    expect(workbenchConfig()).toEqual({ url: `${sim.url}/workbench`, apiKey: TEST_WORKBENCH_KEY });
  });

  it("maps a refused API key to an actionable, permanent error", async () => {
    const error = await listWorkbenchDevices({ url: `${sim.url}/workbench`, apiKey: "wrong-key" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkbenchError);
    expect((error as WorkbenchError).message).toContain("the portal's Workbench API key was refused: the vendor must check it");
    expect(classifyAzureError(error)).toBe("permanent");
  });

  it("names invalid fields without echoing the secret", async () => {
    const input = {
      name: "x",
      description: "",
      tenantId: "not-a-uuid",
      clientId: "also-not",
      clientSecret: "s3cr3t-value-xyz",
      storageAccounts: ["a1"],
    };
    const error = await registerWorkbenchDevice({ url: `${sim.url}/workbench`, apiKey: TEST_WORKBENCH_KEY }, input).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkbenchError);
    expect((error as WorkbenchError).code).toBe("invalid_request");
    expect((error as WorkbenchError).message).toContain("credentials.tenant_id");
    expect((error as WorkbenchError).message).not.toContain("s3cr3t");
  });

  it("maps an unreachable Workbench to a transient error", async () => {
    const error = await listWorkbenchDevices({ url: "https://127.0.0.1:1/workbench", apiKey: TEST_WORKBENCH_KEY }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkbenchError);
    expect(classifyAzureError(error)).toBe("transient");
  });
});
