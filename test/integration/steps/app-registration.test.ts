// app-registration step against the simulator: plan, idempotent apply, verify, replication, faults, permissions, secret hygiene.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyAzureError } from "../../../lib/azure/errors";
import { WELL_KNOWN_APP_IDS } from "../../../lib/azure/graph-ids";
import {
  appRegistrationStep,
  CLIENT_SECRET_KIND,
  runCredentialName,
  type AppRegistrationOutput,
} from "../../../lib/steps/app-registration";
import type { RunConfig } from "../../../lib/steps/config";
import type { RunningSimulator } from "../../../simulator/src/index";
import { azureError, clearRequests, READER, setFaults, setLatency, simRequests, simState, startSimForPortal } from "../azure/support";
import { defaultRunConfig, testStepContext } from "./context";
import { applyWithRetries, withRetries } from "./retry";

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimForPortal();
});
afterAll(async () => sim.close());

function configWith(appUniqueName: string): RunConfig {
  const c = defaultRunConfig();
  return { ...c, vendor: { ...c.vendor, appUniqueName } };
}

const WRITES = new Set(["PUT", "POST", "PATCH", "DELETE"]);

interface GraphState {
  applications: {
    id: string;
    appId: string;
    uniqueName: string | null;
    passwordCredentials: { keyId: string; displayName: string | null }[];
  }[];
  servicePrincipals: { id: string; appId: string }[];
  appRoleAssignments: { principalId: string; resourceId: string; appRoleId: string }[];
}

async function graphOf(uniqueName: string) {
  const graph = (await simState(sim)).graph as GraphState;
  const apps = graph.applications.filter((a) => a.uniqueName === uniqueName);
  const appIds = new Set(apps.map((a) => a.appId));
  const sps = graph.servicePrincipals.filter((s) => appIds.has(s.appId));
  const spIds = new Set(sps.map((s) => s.id));
  return { apps, sps, grants: graph.appRoleAssignments.filter((a) => spIds.has(a.principalId)) };
}

describe("app-registration step", () => {
  const t = () => testStepContext(sim, { runId: "run-app-main" });
  let first: ReturnType<typeof t>;
  let out: AppRegistrationOutput;

  it("plans the app, service principal, consent and secret on a fresh tenant (Log Analytics API already there)", async () => {
    const { ctx } = t();
    const plan = appRegistrationStep.plan(ctx, await appRegistrationStep.read(ctx));
    expect(plan.map((c) => [c.resourceType, c.action])).toEqual([
      ["Service principal", "no-change"],
      ["App registration", "create"],
      ["Service principal", "create"],
      ["Admin consent", "grant"],
      ["Client secret", "create"],
    ]);
    expect(plan.find((c) => c.resourceType === "Client secret")?.resource).toBe(runCredentialName("run-app-main"));
  });

  it("applies once, keeping the secret value only in the run's secret store", async () => {
    first = t();
    await clearRequests(sim);
    out = await appRegistrationStep.apply(first.ctx, await appRegistrationStep.read(first.ctx));
    const stored = first.secrets.get(CLIENT_SECRET_KIND);
    expect(stored?.value.length).toBeGreaterThan(20);
    expect(out).toMatchObject({ consentGranted: true, secret: { keyId: stored?.keyId, hint: stored?.hint } });
    expect(Date.parse(out.secret?.expiresAt ?? "") - Date.now()).toBeGreaterThan(179 * 86_400_000);
    expect(first.writes.map((w) => [w.key.split(":")[0], w.status])).toEqual([
      ["app-registration.app", "succeeded"],
      ["app-registration.service-principal", "succeeded"],
      ["app-registration.consent", "succeeded"],
      ["app-registration.secret", "succeeded"],
    ]);
    expect(first.progress.at(-1)).toMatchObject({ done: 5, total: 5 });

    const secret = stored?.value ?? "";
    const everythingButTheStore = JSON.stringify({
      out,
      writes: first.writes,
      progress: first.progress,
      requests: await simRequests(sim),
      state: await simState(sim),
    });
    expect(everythingButTheStore).not.toContain(secret);
    const g = await graphOf("expel-aks-audit-reader");
    expect(g.apps).toHaveLength(1);
    expect(g.apps[0]?.passwordCredentials).toEqual([
      expect.objectContaining({ keyId: out.secret?.keyId, displayName: runCredentialName("run-app-main") }),
    ]);
    expect(g.sps).toHaveLength(1);
    expect(g.grants).toEqual([expect.objectContaining({ appRoleId: "e8f6e161-84d0-4cd7-9441-2d46ec9ec3d5" })]);
  });

  it("plans no change and writes nothing when applied again; verify passes", async () => {
    const { ctx } = first;
    const live = await appRegistrationStep.read(ctx);
    expect(appRegistrationStep.plan(ctx, live).map((c) => c.action)).toEqual([
      "no-change",
      "no-change",
      "no-change",
      "no-change",
      "no-change",
    ]);
    await clearRequests(sim);
    const writesBefore = first.writes.length;
    const again = await appRegistrationStep.apply(ctx, live);
    expect(again).toEqual(out);
    expect(first.writes.length).toBe(writesBefore);
    expect((await simRequests(sim)).filter((r) => WRITES.has(r.method))).toEqual([]);
    expect(await appRegistrationStep.verify(ctx, out)).toMatchObject({ ok: true });
  });

  it("adds no new secret when this run's secret was already handed off", async () => {
    first.secrets.delete(CLIENT_SECRET_KIND);
    const live = await appRegistrationStep.read(first.ctx);
    expect(live.secretStored).toBe(false);
    const change = appRegistrationStep.plan(first.ctx, live).find((c) => c.resourceType === "Client secret");
    expect(change?.action).toBe("no-change");
    const writesBefore = first.writes.length;
    const again = await appRegistrationStep.apply(first.ctx, live);
    expect(again.secret).toEqual({ keyId: out.secret?.keyId, hint: out.secret?.hint, expiresAt: expect.any(String) });
    expect(first.writes.length).toBe(writesBefore);
    expect(first.secrets.size).toBe(0);
    expect((await graphOf("expel-aks-audit-reader")).apps[0]?.passwordCredentials).toHaveLength(1);
  });

  it("a new run adopts the app and adds only its own secret", async () => {
    const second = testStepContext(sim, { runId: "run-app-second" });
    const plan = appRegistrationStep.plan(second.ctx, await appRegistrationStep.read(second.ctx));
    expect(plan.map((c) => c.action)).toEqual(["no-change", "no-change", "no-change", "no-change", "create"]);
    const o = await appRegistrationStep.apply(second.ctx, await appRegistrationStep.read(second.ctx));
    expect(o.appId).toBe(out.appId);
    expect(second.writes.map((w) => w.key.split(":")[0])).toEqual(["app-registration.secret"]);
    expect((await graphOf("expel-aks-audit-reader")).apps[0]?.passwordCredentials.map((c) => c.displayName).sort()).toEqual([
      runCredentialName("run-app-main"),
      runCredentialName("run-app-second"),
    ]);
  });

  it("verify fails when the run's secret was removed from the app", async () => {
    const { ctx } = testStepContext(sim, { runId: "run-app-main" });
    const bogus = {
      ...out,
      secret: { keyId: "00000000-0000-0000-0000-000000000001", hint: "abc", expiresAt: out.secret?.expiresAt ?? "" },
    };
    expect(await appRegistrationStep.verify(ctx, bogus)).toMatchObject({ ok: false, reason: expect.stringContaining("client secret") });
  });
});

describe("app-registration under Entra replication delay", () => {
  it("surfaces NoBackingApplicationObject as a replication error and completes on retry", async () => {
    await setLatency(sim, { replicationMs: 1500 });
    try {
      const { ctx, secrets } = testStepContext(sim, { runId: "run-app-repl", config: configWith("vendor-replication") });
      const error = await azureError(appRegistrationStep.apply(ctx, await appRegistrationStep.read(ctx)));
      expect(error.azureCode).toBe("NoBackingApplicationObject");
      expect(classifyAzureError(error)).toBe("replication");
      const { result, retried } = await applyWithRetries(appRegistrationStep, ctx);
      expect(retried.every((k) => k === "replication")).toBe(true);
      expect(await appRegistrationStep.verify(ctx, result)).toMatchObject({ ok: true });
      expect(secrets.size).toBe(1);
      const g = await graphOf("vendor-replication");
      expect([g.apps.length, g.sps.length, g.grants.length, g.apps[0]?.passwordCredentials.length]).toEqual([1, 1, 1, 1]);
    } finally {
      await setLatency(sim, { replicationMs: 0 });
    }
  });
});

describe("app-registration with the engine's in-step replication wait", () => {
  it("retries only the service principal POST: one read of the app, no second GET before any POST, every try logged", async () => {
    await setLatency(sim, { replicationMs: 1500 });
    try {
      const { ctx, writes, secrets } = testStepContext(sim, { runId: "run-app-instep", config: configWith("vendor-instep") });
      const waits: number[] = [];
      ctx.waitForReplication = async (retry) => {
        waits.push(retry);
        await new Promise((r) => setTimeout(r, 400));
        return true;
      };
      await clearRequests(sim);
      const out = await appRegistrationStep.apply(ctx, await appRegistrationStep.read(ctx));
      const graph = (await simRequests(sim)).filter((r) => r.url.startsWith("/v1.0/"));
      const path = (r: { url: string }) => decodeURIComponent(r.url.split("?")[0] ?? "");
      // read: the app and the Log Analytics SP; apply: PATCH, the SP POSTs, grant and addPassword, nothing read again.
      expect(
        graph
          .filter((r) => r.method === "GET")
          .map(path)
          .sort(),
      ).toEqual([
        "/v1.0/applications(uniqueName='vendor-instep')",
        `/v1.0/servicePrincipals(appId='${WELL_KNOWN_APP_IDS.logAnalyticsApi}')`,
      ]);
      const spPosts = graph.filter((r) => r.method === "POST" && path(r) === "/v1.0/servicePrincipals");
      expect(waits.length).toBeGreaterThan(0);
      expect(spPosts.map((r) => r.status)).toEqual([...waits.map(() => 400), 201]);
      const spWrites = writes.filter((w) => w.key.startsWith("app-registration.service-principal:"));
      expect(spWrites.map((w) => w.status)).toEqual([...waits.map(() => "failed"), "succeeded"]);
      expect(await appRegistrationStep.verify(ctx, out)).toMatchObject({ ok: true });
      expect(secrets.size).toBe(1);
      const g = await graphOf("vendor-instep");
      expect([g.apps.length, g.sps.length, g.grants.length, g.apps[0]?.passwordCredentials.length]).toEqual([1, 1, 1, 1]);
    } finally {
      await setLatency(sim, { replicationMs: 0 });
    }
  });
});

describe("app-registration under random faults", () => {
  it.each([11, 23])("ends with exactly one app, service principal, grant and run secret (seed %i)", async (seed) => {
    const uniqueName = `vendor-faults-${seed}`;
    const { ctx, secrets } = testStepContext(sim, { runId: `run-faults-${seed}`, config: configWith(uniqueName) });
    await clearRequests(sim);
    await setFaults(sim, { rate: 0.2, kinds: ["429", "500", "503", "PrincipalNotFound", "NoBackingApplicationObject"], seed });
    let result: AppRegistrationOutput;
    try {
      result = (await applyWithRetries(appRegistrationStep, ctx)).result;
      // A second apply, still under faults, must not add anything either.
      await applyWithRetries(appRegistrationStep, ctx);
    } finally {
      await setFaults(sim, { rate: 0 });
    }
    expect((await withRetries(() => appRegistrationStep.verify(ctx, result))).result).toMatchObject({ ok: true });
    expect((await simRequests(sim)).some((r) => r.status >= 429)).toBe(true);
    const g = await graphOf(uniqueName);
    expect([g.apps.length, g.sps.length, g.grants.length]).toEqual([1, 1, 1]);
    expect(g.apps[0]?.passwordCredentials.filter((c) => c.displayName === runCredentialName(`run-faults-${seed}`))).toHaveLength(1);
    expect(secrets.get(CLIENT_SECRET_KIND)?.keyId).toBe(result.secret?.keyId);
  });
});

describe("app-registration by a user without a consent-capable directory role", () => {
  it("fails at admin consent, naming Cloud Application Administrator", async () => {
    const { ctx } = testStepContext(sim, { upn: READER, runId: "run-app-reader", config: configWith("vendor-reader") });
    const error = await azureError(appRegistrationStep.apply(ctx, await appRegistrationStep.read(ctx)));
    expect(error.code).toBe("forbidden");
    expect(error.message).toContain("Cloud Application Administrator");
    expect(classifyAzureError(error)).toBe("permanent");
  });
});

describe("app-registration after a crash between Graph's new secret and its sealing", () => {
  it("replaces the secret nobody can know, but keeps one whose success was logged (handed off since)", async () => {
    const config = configWith("orphan-secret-app");
    const runId = "run-app-orphan";
    const crashed = testStepContext(sim, { runId, config });
    await applyWithRetries(appRegistrationStep, crashed.ctx);
    const orphanKeyId = crashed.secrets.get(CLIENT_SECRET_KIND)?.keyId;
    expect(orphanKeyId).toBeTruthy();

    // The resumed attempt: Graph has the run's secret, but neither the value nor a logged success survived.
    const resumed = testStepContext(sim, { runId, config });
    const { result: out } = await applyWithRetries(appRegistrationStep, resumed.ctx);
    const creds = (await graphOf("orphan-secret-app")).apps[0]?.passwordCredentials ?? [];
    expect(creds.filter((c) => c.displayName === runCredentialName(runId))).toHaveLength(1);
    expect(creds.map((c) => c.keyId)).not.toContain(orphanKeyId);
    expect(out.secret?.keyId).toBe(resumed.secrets.get(CLIENT_SECRET_KIND)?.keyId);
    expect(resumed.writes.filter((w) => w.status === "succeeded").map((w) => w.kind)).toEqual(["delete", "create"]);

    // Handed off: the sealed copy is gone but the success is logged, so a re-run keeps the secret Workbench holds.
    resumed.secrets.delete(CLIENT_SECRET_KIND);
    const before = resumed.writes.length;
    expect((await applyWithRetries(appRegistrationStep, resumed.ctx)).result.secret?.keyId).toBe(out.secret?.keyId);
    expect(resumed.writes.length).toBe(before);
  });
});
