import { expect, test, type APIRequestContext, type Browser, type Page } from "@playwright/test";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { ensurePostgres, type TestDatabase } from "../scripts/postgres";
import { e2eEnv } from "./env";
import { ownPortal, type OwnPortal } from "./portal";
import { OWNER, clearRequests, resetSimulator, reviewPlan, simState, simulatorUrl, type Json } from "./support";

// Two `next start` servers (A and B) on one PostgreSQL 15 database. A is stopped with SIGTERM (a deploy) while the app
// registration's Graph upsert it sent is still in flight: A lets that write finish and logs it, writes nothing more, hands the step
// back as interrupted (its lease released, not left to lapse: the lease TTL here is 60 s) and exits. On B the run shows
// Resume at once (resuming is an admin's click by design: steps act with the admin's delegated token) and completes with
// every Azure write made once.

const FAST = { requestMs: 0, replicationMs: 500, lroMs: { storageAccount: 300 } };
const HOLD_MS = 3_000;
const GRACE_SECONDS = 15;

let db: TestDatabase;
let a: OwnPortal | undefined;
let b: OwnPortal | undefined;

function portal(port: number, name: string): OwnPortal {
  return ownPortal(port, name, { DATABASE_URL: db.url, STEP_LEASE_TTL_SECONDS: "60", SHUTDOWN_GRACE_SECONDS: String(GRACE_SECONDS) });
}

/** Read-only queries on the servers' database. */
async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

function stepItem(page: Page, title: string) {
  return page.getByRole("listitem").filter({ has: page.getByRole("heading", { name: title }) });
}

/** Successful ARM/Graph/Workbench writes in the simulator's log, as "METHOD path body". */
async function writes(request: APIRequestContext): Promise<string[]> {
  const log = (await (await request.get(`${simulatorUrl}/_sim/requests`)).json()) as {
    method: string;
    url: string;
    status: number;
    body: unknown;
  }[];
  return log
    .filter((r) => ["PUT", "POST", "PATCH", "DELETE"].includes(r.method) && r.status < 400)
    .filter((r) => !/\/_sim\/|checkNameAvailability|\/listKeys|\/getByIds|\/oauth2\//i.test(r.url))
    .map((r) => `${r.method} ${(r.url.split("?")[0] ?? "").toLowerCase()} ${JSON.stringify(r.body ?? null)}`);
}

async function holdStatus(request: APIRequestContext): Promise<{ heldAt: string | null; releasedAt: string | null } | undefined> {
  const res = await request.get(`${simulatorUrl}/_sim/holds`);
  return ((await res.json()) as { holds: { heldAt: string | null; releasedAt: string | null }[] }).holds[0];
}

test.beforeAll(async () => {
  db = await ensurePostgres();
});

test.afterAll(async () => {
  await Promise.all([a?.kill(), b?.kill()]);
  await db?.drop();
});

test("SIGTERM in the middle of a step: the write in flight finishes and is logged, the lease is released at once, and the other server resumes", async ({
  browser,
  request,
}) => {
  test.setTimeout(120_000);
  const figures: string[] = [];
  await resetSimulator(request);
  expect((await request.post(`${simulatorUrl}/_sim/latency`, { data: FAST })).ok()).toBe(true);
  try {
    await shutDownMidStep(browser, request, figures);
  } finally {
    // Holds and latency are the shared simulator's: leave them as the other specs expect.
    await request.delete(`${simulatorUrl}/_sim/holds`);
    await request.post(`${simulatorUrl}/_sim/latency`, { data: { requestMs: 0, replicationMs: 1500 } });
    for (const [name, p] of [
      ["a", a],
      ["b", b],
    ] as const)
      if (p) fs.writeFileSync(path.join(e2eEnv().dataDir, `portal-shutdown-${name}.log`), p.logs());
    console.log(`graceful shutdown:\n${figures.map((f) => `  ${f}`).join("\n")}`);
  }
});

async function shutDownMidStep(browser: Browser, request: APIRequestContext, figures: string[]): Promise<void> {
  a = portal(3112, "shutdown-a");
  b = portal(3113, "shutdown-b");
  // A applies the migrations; B finds them applied. Both wait on /readyz.
  await a.start();
  await b.start();

  const onA = await (await browser.newContext()).newPage();
  await reviewPlan(onA, OWNER, a.url);
  const runPath = new URL(onA.url()).pathname.replace(/\/plan$/, "");
  const runId = runPath.split("/")[2] ?? "";
  // The app registration's upsert is held before Graph applies it: in flight when A is told to stop. The step has more
  // writes after it (service principal, secret, grants), which A must not send.
  const hold = {
    name: "app registration upsert in flight",
    method: "PATCH",
    path: "^/v1\\.0/applications\\(uniquename=",
    nth: 1,
    phase: "before",
    ms: HOLD_MS,
  };
  expect((await request.post(`${simulatorUrl}/_sim/holds`, { data: { rules: [hold] } })).ok()).toBe(true);
  await clearRequests(request);
  await onA.getByRole("button", { name: "Confirm and start" }).click();
  await expect(onA).toHaveURL(/\/onboarding\/[\w-]+$/);
  await expect.poll(async () => (await holdStatus(request))?.heldAt ?? null, { timeout: 60_000, intervals: [100] }).not.toBeNull();

  const stopped = await a.terminate();
  const exitedAt = Date.now();
  figures.push(`A exited ${stopped.ms} ms after SIGTERM with code ${stopped.code ?? stopped.signal}`);
  // Next's exit code for SIGTERM, after the drain: the held write (3 s) bounded the wait, not the 15 s grace.
  expect(stopped.code).toBe(143);
  expect(stopped.ms).toBeLessThan(GRACE_SECONDS * 1000);
  expect((await holdStatus(request))?.releasedAt).not.toBeNull();

  // Handed back by A itself: no step running or leased (a crash would leave them leased for the 60 s TTL), and the step
  // with the held write pending as interrupted.
  const steps = await query<{ step_id: string; status: string; lease_owner: string | null; error: { code?: string } | null }>(
    `SELECT step_id, status, lease_owner, error FROM step_runs WHERE run_id = $1 ORDER BY position`,
    [runId],
  );
  figures.push(`after A: ${steps.map((s) => `${s.step_id} ${s.status}${s.error?.code ? ` (${s.error.code})` : ""}`).join(", ")}`);
  expect(steps.filter((s) => s.status === "running" || s.lease_owner !== null)).toEqual([]);
  expect(steps.find((s) => s.step_id === "app-registration")).toMatchObject({ status: "pending", error: { code: "interrupted" } });
  // Every write A started has its outcome in the write-ahead log: the one in flight finished and was logged as usual.
  const ops = await query<{ step_id: string; key: string; status: string }>(
    `SELECT step_id, key, status FROM operations WHERE run_id = $1 ORDER BY id`,
    [runId],
  );
  expect(ops.filter((o) => o.status === "intent")).toEqual([]);
  const appOps = ops.filter((o) => o.step_id === "app-registration");
  expect(appOps.filter((o) => o.key.startsWith("app-registration.app:") && o.status === "succeeded")).toHaveLength(1);
  figures.push(`A logged ${ops.length} writes, each with its outcome; app registration: ${appOps.map((o) => o.key).join(", ")}`);

  // B: the same browser session (sessions live in the database) sees the step interrupted and resumes it.
  const onB = await onA.context().newPage();
  await onB.goto(`${b.url}${runPath}`);
  await expect(stepItem(onB, "App registration").getByText(/^\W*Interrupted$/)).toBeVisible();
  await onB.getByRole("button", { name: "Resume" }).click();
  await expect(stepItem(onB, "App registration").getByText(/^\W*(Running|Done)$/)).toBeVisible();
  const resumedAfterMs = Date.now() - exitedAt;
  figures.push(`B resumed the step ${resumedAfterMs} ms after A exited (lease TTL 60 s)`);
  expect(resumedAfterMs).toBeLessThan(15_000);
  await expect(onB.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 60_000 });

  // No write twice: not in Azure's request log, not in the write-ahead log, and the resources exist once.
  const all = await writes(request);
  expect(all.filter((w, i) => all.indexOf(w) !== i)).toEqual([]);
  const duplicated = await query<{ key: string }>(
    `SELECT key FROM operations WHERE run_id = $1 AND status = 'succeeded' GROUP BY key HAVING count(*) > 1`,
    [runId],
  );
  expect(duplicated).toEqual([]);
  const state = await simState(request);
  const apps = (state.graph.applications as Json[]).filter((x) => x.uniqueName === "expel-aks-audit-reader");
  expect(apps).toHaveLength(1);
  const sp = (state.graph.servicePrincipals as Json[]).find((s) => s.appId === apps[0].appId);
  const assignments = (state.arm as Json[]).filter(
    (r) => String(r.type).toLowerCase() === "microsoft.authorization/roleassignments" && r.properties.principalId === sp?.id,
  );
  // The Log Analytics query role on 2 subscriptions, the AKS role on 4 clusters, Storage Blob Data Reader on 2 audit accounts.
  expect(assignments).toHaveLength(8);
  const [run] = await query<{ status: string }>(`SELECT status FROM onboarding_runs WHERE id = $1`, [runId]);
  expect(run?.status).toBe("completed");
}
