import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect, test, type APIRequestContext, type Browser, type Page } from "@playwright/test";
import pg from "pg";
import { ensurePostgres, type TestDatabase } from "../scripts/postgres";
import { e2eEnv } from "./env";
import { ownPortal, type OwnPortal } from "./portal";
import { OWNER, clearRequests, resetSimulator, simState, simulatorUrl, type Json } from "./support";

// Two `next start` servers (A and B) on one PostgreSQL 15 database, as two portal instances behind a load balancer.
// 1. The same run is confirmed from A and B at the same instant, then (after it stopped at a step that needs another
//    admin) continued from A and B at the same instant: every Azure write happens once, one server executes each step.
// 2. Two runs of different tenants, one on A and one on B, proceed in parallel.
// The simulator serves one customer tenant with subscriptions, so Fabrikam's run gets its own simulator (B is restarted
// against it, on the same database).

const PLATFORM = "platform@contoso.onmicrosoft.com";
const FABRIKAM_ADMIN = "admin@fabrikam.onmicrosoft.com";
const FAST = { requestMs: 0, replicationMs: 500, lroMs: { storageAccount: 300 } };
const e = e2eEnv();

let db: TestDatabase;
let fabrikamSim: { url: string; stop(): Promise<void> } | undefined;
let a: OwnPortal;
let b: OwnPortal;

function portal(port: number, name: string, simUrl: string): OwnPortal {
  return ownPortal(port, name, {
    DATABASE_URL: db.url,
    ARM_ENDPOINT: simUrl,
    GRAPH_ENDPOINT: simUrl,
    ENTRA_AUTHORITY: `${simUrl}/organizations`,
    LOG_ANALYTICS_ENDPOINT: simUrl,
    WORKBENCH_URL: `${simUrl}/workbench`,
  });
}

/** A simulator of its own on free ports, trusted through the e2e CA (copied into its data folder before it starts). */
async function startOwnSimulator(scenario: string): Promise<{ url: string; stop(): Promise<void> }> {
  const dataDir = path.join(e.dataDir, "simulator-two-servers");
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  fs.cpSync(path.join(e.dataDir, "simulator", "ca"), path.join(dataDir, "ca"), { recursive: true });
  const args = [
    "simulator/main.ts",
    ...["--port", "0", "--blob-port", "0", "--data-dir", dataDir, "--scenario", scenario],
    // "=": the random secrets may start with "-".
    ...["--client-id", e.processEnv.ENTRA_CLIENT_ID ?? "", `--client-secret=${e.processEnv.ENTRA_CLIENT_SECRET ?? ""}`],
    ...[`--workbench-api-key=${e.processEnv.WORKBENCH_API_KEY ?? ""}`, "--secret-propagation-seconds", "3"],
  ];
  const child: ChildProcess = spawn(path.join(e.root, "node_modules", ".bin", "tsx"), args, {
    cwd: e.root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stderr?.on("data", (c: Buffer) => (err += c.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator did not start: ${err.slice(-1000)}`)), 60_000);
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const ready = /simulator ready on (https:\/\/\S+)/.exec(out);
      if (ready?.[1]) {
        clearTimeout(timer);
        resolve(ready[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`simulator exited with ${code}: ${err.slice(-1000)}`)));
  });
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Read-only queries on the portals' database. */
async function query<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

async function signIn(browser: Browser, portalUrl: string, upn: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto(`${portalUrl}/`);
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await page.getByRole("button", { name: upn }).click();
  await expect(page).toHaveURL(/\/estate$/);
  return page;
}

/** From the estate page to the plan page of a new run with every cluster (`regions` audit accounts); returns the plan's path. */
async function planNewRun(page: Page, regions: number): Promise<string> {
  await page.getByRole("link", { name: "Start onboarding" }).click();
  await expect(page.getByRole("heading", { name: "New onboarding" })).toBeVisible();
  await expect(page.getByText(/^(Available\.|Exists in .* it will be adopted, not created\.)$/)).toHaveCount(regions);
  await page.getByRole("button", { name: "Review the plan" }).click();
  await expect(page).toHaveURL(/\/onboarding\/[\w-]+\/plan$/);
  await expect(page.getByRole("button", { name: "Confirm and start" })).toBeVisible();
  return new URL(page.url()).pathname;
}

// The confirm action's refusal ("already confirmed", or "Someone else confirmed … first" when both read "planned").
const refusal = (page: Page) => page.getByRole("alert").filter({ hasText: /confirmed/ });
/** Clicks the button `name` on every page at one wall-clock instant (a timer in each page), not one CDP round trip apart. */
async function clickTogether(pages: Page[], name: string): Promise<void> {
  const handles = await Promise.all(pages.map((p) => p.getByRole("button", { name }).elementHandle()));
  const at = Date.now() + 500;
  await Promise.all(
    handles.map((h) => h.evaluate((el, when) => void setTimeout(() => (el as HTMLElement).click(), when - Date.now()), at)),
  );
}

const onRunPage = (page: Page) => /^\/onboarding\/[\w-]+$/.test(new URL(page.url()).pathname);

/** Successful ARM/Graph/Workbench writes in the simulator's log, as "METHOD path body" (reads sent as POST left out). */
async function writes(request: APIRequestContext, simUrl: string): Promise<string[]> {
  const res = await request.get(`${simUrl}/_sim/requests`);
  expect(res.ok()).toBe(true);
  const log = (await res.json()) as { method: string; url: string; status: number; body: unknown }[];
  return log
    .filter((r) => ["PUT", "POST", "PATCH", "DELETE"].includes(r.method) && r.status < 400)
    .filter((r) => !/\/_sim\/|checkNameAvailability|\/listKeys|\/getByIds|\/oauth2\//i.test(r.url))
    .map((r) => `${r.method} ${(r.url.split("?")[0] ?? "").toLowerCase()} ${JSON.stringify(r.body ?? null)}`);
}

const duplicates = (items: string[]) => items.filter((w, i) => items.indexOf(w) !== i);

/** The run's succeeded write-ahead log keys that occur more than once (should be none). */
async function duplicateSucceededKeys(runId: string): Promise<{ keys: number; duplicated: string[] }> {
  const rows = await query<{ key: string; n: string }>(
    `SELECT key, count(*) AS n FROM operations WHERE run_id = $1 AND status = 'succeeded' GROUP BY key`,
    [runId],
  );
  return { keys: rows.length, duplicated: rows.filter((r) => Number(r.n) !== 1).map((r) => r.key) };
}

/** The run's execution window on the database clock: first step start to last step end. */
async function runWindow(runId: string): Promise<{ start: number; end: number }> {
  const [row] = await query<{ start: Date; end: Date }>(
    `SELECT min(started_at) AS start, max(finished_at) AS end FROM step_runs WHERE run_id = $1`,
    [runId],
  );
  if (!row) throw new Error(`run ${runId} has no steps`);
  return { start: row.start.getTime(), end: row.end.getTime() };
}

const ofType = (state: Json, type: string): Json[] =>
  (state.arm as Json[]).filter((r) => String(r.type).toLowerCase() === type.toLowerCase());

/** Exactly one onboarding's objects in the simulator: one app, secret, SP, grant, custom role and device; a setting per cluster. */
function expectOneOnboarding(state: Json, clusters: number, subscriptions: number) {
  const apps = (state.graph.applications as Json[]).filter((x) => x.uniqueName === "expel-aks-audit-reader");
  expect(apps).toHaveLength(1);
  expect(apps[0].passwordCredentials).toHaveLength(1);
  const sps = (state.graph.servicePrincipals as Json[]).filter((s) => s.appId === apps[0].appId);
  expect(sps).toHaveLength(1);
  expect((state.graph.appRoleAssignments as Json[]).filter((g) => g.principalId === sps[0].id)).toHaveLength(1);
  const settings = ofType(state, "Microsoft.Insights/diagnosticSettings").filter((s) => s.name === "aks-onboarding-kube-audit");
  expect(settings).toHaveLength(clusters);
  const accountIds = new Set(settings.map((s) => String(s.properties.storageAccountId).toLowerCase()));
  const accounts = ofType(state, "Microsoft.Storage/storageAccounts").filter((x) => accountIds.has(String(x.id).toLowerCase()));
  expect(accounts).toHaveLength(accountIds.size);
  const customRoles = ofType(state, "Microsoft.Authorization/roleDefinitions").filter((r) => r.properties.type === "CustomRole");
  // The read-only AKS role, the cluster metadata role and the Log Analytics query role.
  expect(customRoles).toHaveLength(3);
  const logAnalyticsRole = customRoles.find((r) => r.properties.roleName === "Log Analytics query reader (read-only)");
  const clusterRoles = customRoles.filter((r) => r !== logAnalyticsRole);
  // The Log Analytics query role per subscription; one of the cluster roles per cluster, at the cluster; Storage Blob Data Reader
  // per audit account, at the account, its ABAC condition naming that account.
  const assignments = ofType(state, "Microsoft.Authorization/roleAssignments").filter((x) => x.properties.principalId === sps[0].id);
  const byRole = (guid: string) => assignments.filter((x) => String(x.properties.roleDefinitionId).toLowerCase().endsWith(guid));
  expect(byRole(String(logAnalyticsRole?.name).toLowerCase())).toHaveLength(subscriptions);
  expect(byRole("73c42c96-874c-492b-b04d-ab87d138a893")).toHaveLength(0);
  expect(clusterRoles.flatMap((r) => byRole(String(r.name).toLowerCase()))).toHaveLength(clusters);
  const blobReaders = byRole("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1");
  expect(blobReaders.length + subscriptions + clusters).toBe(assignments.length);
  for (const account of accounts) {
    const mine = blobReaders.filter((x) => String(x.properties.scope).toLowerCase() === String(account.id).toLowerCase());
    expect(mine).toHaveLength(1);
    expect(String(mine[0]?.properties.condition)).toContain(`'${account.name}'`);
  }
  expect(state.workbench.devices).toHaveLength(1);
  expect(state.workbench.devices[0].credentials.client_id).toBe(apps[0].appId);
}

test.beforeAll(async () => {
  db = await ensurePostgres();
});

test.afterAll(async () => {
  await Promise.all([a?.kill(), b?.kill()]);
  await fabrikamSim?.stop();
  await db?.drop();
});

test("two portal servers on one PostgreSQL: the same run triggered on both executes once; two runs proceed in parallel", async ({
  browser,
  request,
}) => {
  test.setTimeout(300_000);
  const t0 = Date.now();
  const figures: string[] = [];
  const mark = (what: string) => figures.push(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // second-admin.json: platform@ is Owner without an Entra role, so the run stops at admin consent; owner@ can continue it.
  await resetSimulator(request, "second-admin.json");
  expect((await request.post(`${simulatorUrl}/_sim/latency`, { data: FAST })).ok()).toBe(true);
  a = portal(3120, "two-servers-a", simulatorUrl);
  b = portal(3121, "two-servers-b", simulatorUrl);
  // A applies the migrations at start; B then finds them applied.
  await a.start();
  await b.start();
  mark("both servers ready");

  try {
    // 1a. The same plan confirmed on A and on B at the same instant: exactly one confirmation starts the run.
    const onA = await signIn(browser, a.url, PLATFORM);
    const planPath = await planNewRun(onA, 2);
    const runPath = planPath.replace(/\/plan$/, "");
    const runId = runPath.split("/")[2] ?? "";
    // The session lives in the database: the same browser context is signed in on B without signing in again.
    const onB = await onA.context().newPage();
    await onB.goto(`${b.url}${planPath}`);
    await expect(onB.getByRole("button", { name: "Confirm and start" })).toBeVisible();
    await clearRequests(request);
    await clickTogether([onA, onB], "Confirm and start");
    await expect
      .poll(async () => (await Promise.all([onA, onB].map(async (p) => onRunPage(p) || (await refusal(p).count()) > 0))).every(Boolean))
      .toBe(true);
    const confirmed = [onA, onB].filter(onRunPage);
    expect(confirmed).toHaveLength(1);
    const loser = onRunPage(onA) ? onB : onA;
    await expect(refusal(loser)).toBeVisible();
    figures.push(`confirm race: ${loser === onA ? "B" : "A"} started the run; the other was told "${await refusal(loser).innerText()}"`);
    mark("confirm race settled");

    const winner = confirmed[0] as Page;
    await expect(winner.getByRole("region", { name: "“App registration” needs another admin" })).toBeVisible({ timeout: 60_000 });
    mark("stopped at admin consent");

    // 1b. owner@ opens the run on A and on B and clicks Retry on both at the same instant: one server executes the step.
    const ownerA = await signIn(browser, a.url, OWNER);
    const ownerB = await ownerA.context().newPage();
    await Promise.all([ownerA.goto(`${a.url}${runPath}`), ownerB.goto(`${b.url}${runPath}`)]);
    await Promise.all([ownerA, ownerB].map((p) => expect(p.getByRole("button", { name: "Retry" })).toBeVisible()));
    await clickTogether([ownerA, ownerB], "Retry");
    // Both servers show the one execution's progress, read from the shared database.
    await Promise.all(
      [ownerA, ownerB].map((p) =>
        expect(p.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 90_000 }),
      ),
    );
    mark("run completed");

    const runWrites = await writes(request, simulatorUrl);
    expect(runWrites.length).toBeGreaterThanOrEqual(15);
    expect(duplicates(runWrites)).toEqual([]);
    expectOneOnboarding(await simState(request), 2, 2);

    const ops = await duplicateSucceededKeys(runId);
    expect(ops.keys).toBeGreaterThan(10);
    expect(ops.duplicated).toEqual([]);
    // Each execution takes the step's lease (attempts + 1): App registration ran for platform@ and once more for one
    // of the two Retry clicks; every other step exactly once.
    const steps = await query<{ step_id: string; attempts: number; status: string }>(
      `SELECT step_id, attempts, status FROM step_runs WHERE run_id = $1 ORDER BY position`,
      [runId],
    );
    expect(steps.map((s) => [s.step_id, s.status, s.attempts])).toEqual(
      steps.map((s) => [s.step_id, "done", s.step_id === "app-registration" ? 2 : 1]),
    );
    // Both clicks reached a server and were accepted: two decisions, one execution.
    const decisions = await query<{ action: string; actor_upn: string; at: Date }>(
      `SELECT action, actor_upn, at FROM audit_events WHERE run_id = $1 AND action IN ('run.plan_confirmed', 'run.continued') ORDER BY id`,
      [runId],
    );
    expect(decisions.map((d) => `${d.action} ${d.actor_upn}`)).toEqual([
      `run.plan_confirmed ${PLATFORM}`,
      `run.continued ${OWNER}`,
      `run.continued ${OWNER}`,
    ]);
    figures.push(
      `the two Retry clicks recorded ${Math.abs((decisions[2]?.at.getTime() ?? 0) - (decisions[1]?.at.getTime() ?? 0))} ms apart`,
    );
    figures.push(`run 1: ${runWrites.length} writes, ${ops.keys} write-ahead keys, no duplicate`);

    // 2. B restarted against Fabrikam's simulator, same database. Contoso's run on A, then Fabrikam's on B while A's runs.
    await b.kill();
    fabrikamSim = await startOwnSimulator("simulator/scenarios/fabrikam.json");
    expect((await request.post(`${fabrikamSim.url}/_sim/latency`, { data: FAST })).ok()).toBe(true);
    b = portal(3121, "two-servers-b", fabrikamSim.url);
    await resetSimulator(request);
    await b.start();
    mark("B restarted on Fabrikam");
    const contoso = await ownerA.context().newPage();
    await contoso.goto(`${a.url}/estate`);
    const fabrikam = await signIn(browser, b.url, FABRIKAM_ADMIN);
    const contosoPlan = await planNewRun(contoso, 2);
    const fabrikamPlan = await planNewRun(fabrikam, 1);
    await Promise.all([clearRequests(request), request.delete(`${fabrikamSim.url}/_sim/requests`)]);

    await contoso.getByRole("button", { name: "Confirm and start" }).click();
    await expect(contoso.getByRole("status").filter({ hasText: "Working…" })).toBeVisible();
    await fabrikam.getByRole("button", { name: "Confirm and start" }).click();
    await Promise.all(
      [contoso, fabrikam].map((p) =>
        expect(p.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 90_000 }),
      ),
    );
    mark("both parallel runs completed");

    const [contosoId, fabrikamId] = [contosoPlan, fabrikamPlan].map((p) => p.split("/")[2] ?? "");
    const [wa, wb] = await Promise.all([runWindow(contosoId ?? ""), runWindow(fabrikamId ?? "")]);
    // Neither waited for the other: Fabrikam's run started before Contoso's ended, and ended after Contoso's started.
    expect(wb.start).toBeLessThan(wa.end);
    expect(wb.end).toBeGreaterThan(wa.start);
    const overlap = Math.min(wa.end, wb.end) - Math.max(wa.start, wb.start);
    figures.push(
      `Contoso on A ${((wa.end - wa.start) / 1000).toFixed(1)} s, Fabrikam on B ${((wb.end - wb.start) / 1000).toFixed(1)} s, overlapping ${(overlap / 1000).toFixed(1)} s`,
    );
    for (const [id, simUrl] of [
      [contosoId, simulatorUrl],
      [fabrikamId, fabrikamSim.url],
    ] as const) {
      expect(duplicates(await writes(request, simUrl))).toEqual([]);
      expect((await duplicateSucceededKeys(id ?? "")).duplicated).toEqual([]);
    }
    expectOneOnboarding(await simState(request), 4, 2);
    const fabrikamState = (await (await request.get(`${fabrikamSim.url}/_sim/state`)).json()) as Json;
    expectOneOnboarding(fabrikamState, 1, 1);
    const tenants = await query<{ tenant_id: string; status: string }>(
      `SELECT tenant_id, status FROM onboarding_runs WHERE id = ANY($1) ORDER BY created_at`,
      [[contosoId, fabrikamId]],
    );
    expect(tenants.map((t) => t.status)).toEqual(["completed", "completed"]);
    expect(new Set(tenants.map((t) => t.tenant_id)).size).toBe(2);
  } finally {
    for (const [name, p] of [
      ["a", a],
      ["b", b],
    ] as const)
      fs.writeFileSync(path.join(e.dataDir, `portal-two-servers-${name}.log`), p.logs());
    console.log(`two servers:\n${figures.map((f) => `  ${f}`).join("\n")}`);
    await request.post(`${simulatorUrl}/_sim/latency`, { data: { requestMs: 0, replicationMs: 1500 } });
  }
});
