// A full run against the simulator, observed as an operator would: its log (every step's start and end, every write
// with Azure's request ids, no secret) and a /metrics scrape (runs, steps, requests), with and without the bearer token.
import crypto from "node:crypto";
import { NextRequest } from "next/server";
import { describe, expect, it, vi } from "vitest";
import { acquireStepLease, confirmRunPlan, createRun, setRunPlan, setRunStatus } from "../../../lib/db";
import { executeStep } from "../../../lib/engine/execute-step";
import { isWrite, operationOf, type OutboundService } from "../../../lib/azure/request-log-policy";
import { AzureOperationError } from "../../../lib/azure/errors";
import { STEP_IDS } from "../../../lib/steps/registry";
import type { RunningSimulator } from "../../../simulator/src/index";
import { deviceSecret } from "../../../simulator/src/workbench";
import { simToken, TEST_CLIENT, TEST_WORKBENCH_KEY } from "../../../simulator/src/testing";
import { GET as scrape } from "../../../app/metrics/route";
import { captureLog, type LogLine } from "../../support/log-capture";
import { fakeModules, fakeStep, FakeAzure, fakeTime, realSleep, runningRun } from "../../support/engine";
import { OWNER, simRequests, TENANT } from "../azure/support";
import { defaultRunConfig } from "../steps/context";
import { driveRun, FAST_LATENCY, portalFixture } from "../portal-fixture";

const METRICS_TOKEN = crypto.randomBytes(24).toString("hex");
// Before the first env() call, which caches the configuration.
vi.stubEnv("METRICS_TOKEN", METRICS_TOKEN);
vi.stubEnv("LOG_LEVEL", "info");

let sim: RunningSimulator;
const { tokensOf } = portalFixture("observability", { blob: true, latency: FAST_LATENCY }, (started) => (sim = started));
const tokens = tokensOf(OWNER);
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+/;

// The service a simulator request went to, as the portal names it; null for what the portal's request log doesn't cover.
function serviceOf(url: string): OutboundService | null {
  const p = new URL(url, "https://sim.invalid").pathname;
  if (p.startsWith("/_sim") || /^\/[^/]+\/(oauth2\/v2\.0\/|v2\.0\/\.well-known\/|discovery\/)/.test(p)) return null;
  if (p.startsWith("/workbench/")) return "workbench";
  if (p.startsWith("/v1.0/")) return "graph";
  if (p.startsWith("/v1/")) return "log_analytics";
  return "arm";
}

const pathOf = (url: string) => new URL(url, "https://sim.invalid").pathname;

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m?.[1] !== name) continue;
    const have: string[] = (m[2] ?? "").match(/\w+="[^"]*"/g) ?? [];
    if (wanted.every((w) => have.includes(w))) return Number(m[3]);
  }
  return undefined;
}

function sum(text: string, name: string): number {
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((total, l) => total + Number(l.split(" ").at(-1)), 0);
}

const metricsRequest = (authorization?: string) =>
  new NextRequest("http://localhost/metrics", authorization ? { headers: { authorization } } : {});

describe("observability of a full run", () => {
  it("logs each step's start and end and every write with its request ids, no secret; a scrape counts the run", async () => {
    const run = await createRun({
      tenantId: TENANT,
      createdByUserId: null,
      createdByUpn: OWNER,
      config: defaultRunConfig(),
      steps: STEP_IDS,
    });
    // The plan's preview is for the admin; the steps read Azure afresh, so an empty one keeps this test to the run itself.
    expect(await setRunPlan(run.id, { steps: [] })).toBe(true);
    expect(await confirmRunPlan(run.id, OWNER)).toBe(true);
    expect(await setRunStatus(run.id, "running", { from: ["planned"] })).toBe(true);

    const capture = captureLog();
    try {
      expect(await driveRun(run.id, tokens)).toEqual({ outcome: "completed" });
    } finally {
      capture.stop();
    }
    const lines: LogLine[] = capture.lines;
    const ofRun = lines.filter((l) => l.runId === run.id);

    // Each step: one start and one end (done), with its correlation fields.
    for (const stepId of STEP_IDS) {
      const events = ofRun.filter((l) => l.stepId === stepId && (l.event === "step.start" || l.event === "step.end"));
      expect(
        events.map((e) => [e.event, e.outcome, e.tenantId]),
        stepId,
      ).toEqual([
        ["step.start", undefined, TENANT],
        ["step.end", "done", TENANT],
      ]);
      expect(events[1]?.durationMs).toEqual(expect.any(Number));
    }
    expect(ofRun.filter((l) => l.event?.startsWith("run.")).map((l) => [l.event, l.status ?? l.outcome])).toEqual([
      ["run.drive.start", undefined],
      ["run.status", "completed"],
      ["run.completed", undefined],
      ["run.drive.end", "completed"],
    ]);

    // Every write the simulator saw is one log line of this run, under a step, with the ids support needs.
    const writes = lines.filter((l) => l.event === "azure.write");
    expect(writes.length).toBeGreaterThan(10);
    for (const w of writes) {
      expect(w, JSON.stringify(w)).toMatchObject({ runId: run.id, tenantId: TENANT, stepId: expect.any(String) as string });
      expect(STEP_IDS).toContain(w.stepId);
      expect(w.clientRequestId, JSON.stringify(w)).toEqual(expect.any(String));
      if (w.service !== "workbench") expect(w.requestId, JSON.stringify(w)).toEqual(expect.any(String));
      expect(String(w.target)).not.toContain("?");
    }
    expect(new Set(writes.map((w) => w.service))).toEqual(new Set(["arm", "graph", "workbench"]));
    const simWrites = (await simRequests(sim))
      .filter((r) => {
        const service = serviceOf(r.url);
        return service !== null && isWrite(r.method, operationOf(service, r.method, r.url));
      })
      .map((r) => `${r.method} ${pathOf(r.url)}`)
      .sort();
    expect(writes.map((w) => `${String(w.operation).split(" ")[0]} ${String(w.target)}`).sort()).toEqual(simWrites);
    // The request ids are the simulator's own (it answers every ARM and Graph request with a fresh x-ms-request-id / request-id).
    expect(new Set(writes.map((w) => w.requestId).filter(Boolean)).size).toBe(writes.filter((w) => w.requestId).length);

    // The secret scan: nothing the run handled that is secret is in the log.
    const device = (sim.state().workbench.devices as { id: string }[])[0];
    const appSecret = device ? deviceSecret(sim.state(), device.id) : undefined;
    const secrets: Record<string, string | undefined> = {
      "the app's client secret": appSecret,
      "the portal's client secret": TEST_CLIENT.clientSecret,
      ENCRYPTION_KEY: process.env.ENCRYPTION_KEY,
      "the Workbench API key": TEST_WORKBENCH_KEY,
      "an ARM token": await simToken(sim, { upn: OWNER, resource: "arm" }),
    };
    for (const [name, value] of Object.entries(secrets)) expect(value?.length ?? 0, name).toBeGreaterThan(15);
    const text = capture.text();
    expect(
      Object.entries(secrets)
        .filter(([, v]) => v && text.includes(v))
        .map(([k]) => k),
    ).toEqual([]);
    expect(JWT.test(text)).toBe(false);

    // The scrape: 404-free only with the token, and then the run, its steps and its requests are counted.
    expect((await scrape(metricsRequest())).status).toBe(401);
    expect((await scrape(metricsRequest(`Bearer ${METRICS_TOKEN}x`))).status).toBe(401);
    const res = await scrape(metricsRequest(`Bearer ${METRICS_TOKEN}`));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const body = await res.text();
    expect(sample(body, "portal_runs", { status: "completed" })).toBe(1);
    expect(sample(body, "portal_runs", { status: "running" })).toBe(0);
    for (const stepId of STEP_IDS) {
      expect(sample(body, "portal_step_duration_seconds_count", { step: stepId, outcome: "done" }), stepId).toBe(1);
    }
    expect(sample(body, "portal_jobs_working", { job: "step" })).toBe(0);
    // Every request the simulator answered is one count; the writes are among them.
    const simAll = (await simRequests(sim)).filter((r) => serviceOf(r.url) !== null);
    expect(sum(body, "portal_azure_requests_total")).toBe(simAll.length);
    expect(sum(body, "portal_azure_request_duration_seconds_count")).toBe(simAll.length);
    const storageCreate = simAll.filter(
      (r) => r.method === "PUT" && operationOf("arm", r.method, r.url) === "PUT Microsoft.Storage/storageAccounts",
    );
    expect(storageCreate.length).toBeGreaterThan(0);
    expect(
      sample(body, "portal_azure_requests_total", { service: "arm", operation: "PUT Microsoft.Storage/storageAccounts" }),
    ).toBeGreaterThan(0);
  }, 120_000);

  it("logs and counts each retry with its class, and a lease taken over from an expired holder", async () => {
    const azure = new FakeAzure();
    let throttled = 0;
    const modules = fakeModules(azure, {
      storage: fakeStep("storage", azure, {
        beforeWrite: () => {
          throttled += 1;
          if (throttled <= 2) throw new AzureOperationError("throttled", "Azure is throttling requests.");
        },
      }),
    });
    const run = await runningRun();
    const time = fakeTime();
    const capture = captureLog();
    try {
      const result = await executeStep({
        runId: run.id,
        tenantId: run.tenantId,
        stepId: "storage",
        actor: { userId: null, upn: OWNER },
        tokens,
        modules,
        now: time.now,
        sleep: time.sleep,
      });
      expect(result).toMatchObject({ ok: true });
    } finally {
      capture.stop();
    }
    const retries = capture.lines.filter((l) => l.event === "retry");
    expect(retries.map((r) => [r.class, r.code, r.runId, r.stepId, r.tenantId])).toEqual([
      ["transient", "throttled", run.id, "storage", run.tenantId],
      ["transient", "throttled", run.id, "storage", run.tenantId],
    ]);
    expect(retries.map((r) => r.delayMs)).toEqual(time.sleeps);
    let body = await (await scrape(metricsRequest(`Bearer ${METRICS_TOKEN}`))).text();
    expect(sample(body, "portal_retries_total", { class: "transient" })).toBe(2);

    // Another execution's lease on a step, expired: the next execution takes it over, and says so.
    const takeover = captureLog();
    try {
      const stepId = "diagnostic-settings";
      expect(await acquireStepLease(run.id, stepId, "crashed-server", 1)).toBe(true);
      await realSleep(20);
      const result = await executeStep({
        runId: run.id,
        tenantId: run.tenantId,
        stepId,
        actor: { userId: null, upn: OWNER },
        tokens,
        modules,
      });
      expect(result).toMatchObject({ ok: true });
    } finally {
      takeover.stop();
    }
    expect(takeover.lines.filter((l) => l.event === "lease.takeover").map((l) => [l.stepId, l.runId])).toEqual([
      ["diagnostic-settings", run.id],
    ]);
    body = await (await scrape(metricsRequest(`Bearer ${METRICS_TOKEN}`))).text();
    expect(sample(body, "portal_lease_takeovers_total", { job: "step", by: "execution" })).toBe(1);
  });
});
