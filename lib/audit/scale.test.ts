// 150,000 audit events of one tenant on a real PostgreSQL (scripts/postgres.ts; never skipped): the tenant export streams
// all of them and verifies in bounded memory, a changed row is named, and the run page and the vendor detail read one
// page through the index. Prints the figures the README quotes ([figures] lines).
import v8 from "node:v8";
import vm from "node:vm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { closeDb, configureDb, createRun, createSession, findSession, migrate, upsertUser, type SessionWithUser } from "@/lib/db";
import { listAuditPage, type AuditEvent } from "@/lib/db/audit";
import { auditEventHash, GENESIS_HASH } from "@/lib/db/audit-hash";
import { getRunAcrossTenants } from "@/lib/db/vendor-runs";
import { testConfig } from "@/test/support/engine";
import { getRunView, type RunView } from "@/lib/onboarding/run-control";
import { ensurePostgres, type TestDatabase } from "../../scripts/postgres";
import { AUDIT_PAGE_SIZE, auditDownload, runAuditTrail } from "./access";
import { checkExportLines, parseExportLine, type AuditExportEnd } from "./export";

const EVENTS = 150_000;
// Every 16th id of the range belongs to another tenant, so the tenant's rows are interleaved like real traffic.
const OTHER_EVERY = 16;
// Event #120,000 of the tenant: past where the old 100,000-event cap cut exports off.
const TAMPERED = 120_000;

let database: TestDatabase | undefined;
let session: SessionWithUser;
let view: RunView;
let tampered: AuditEvent;
const gc = (() => {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
})();

beforeAll(async () => {
  vi.stubEnv("ENCRYPTION_KEY", "q6kqXdpG9vNk0m8o0cF5mVgQ1sFz3rK2YbJtWcHnLxE=");
  database = await ensurePostgres();
  configureDb({ databaseUrl: database.url, dataDir: ".test-data/unused" });
  await migrate();
  const config = testConfig();
  const user = await upsertUser({
    tenantId: config.tenantId,
    objectId: "33333333-3333-4333-8333-333333333333",
    upn: "admin@contoso.example",
    displayName: "Admin",
  });
  await createSession({
    tokenHash: "scale-session",
    userId: user.id,
    homeAccountId: "h",
    tokenCache: "c",
    expiresAt: new Date(Date.now() + 3_600_000),
  });
  session = (await findSession("scale-session"))!;
  const run = await createRun({ tenantId: config.tenantId, createdByUserId: user.id, createdByUpn: user.upn, config, steps: ["storage"] });
  view = (await getRunView(session, run.id))!;

  const started = performance.now();
  const client = new pg.Client({ connectionString: database.url });
  const second = new pg.Client({ connectionString: database.url });
  await Promise.all([client.connect(), second.connect()]);
  try {
    const total = EVENTS + Math.ceil(EVENTS / (OTHER_EVERY - 1));
    const { rows } = await client.query<{ id: string }>(
      `SELECT nextval(pg_get_serial_sequence('audit_events', 'id'))::text AS id FROM generate_series(1, $1)`,
      [total],
    );
    const columns = {
      id: [] as string[],
      at: [] as string[],
      tenant: [] as string[],
      run: [] as (string | null)[],
      upn: [] as string[],
      action: [] as string[],
      target: [] as (string | null)[],
      outcome: [] as string[],
      detail: [] as string[],
      prev: [] as string[],
      hash: [] as string[],
    };
    // One batch in flight per connection while the next is hashed.
    const inFlight: (Promise<unknown> | null)[] = [null, null];
    let batches = 0;
    const insert = async () => {
      const slot = batches++ % 2;
      await inFlight[slot];
      inFlight[slot] = (slot ? second : client).query(
        `INSERT INTO audit_events (id, at, tenant_id, run_id, actor_upn, action, target, outcome, detail, prev_hash, hash)
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::"AuditOutcome"[], $9::jsonb[], $10::text[], $11::text[])`,
        Object.values(columns).map((list) => list.splice(0)),
      );
    };
    const lastHash = new Map<string, string>();
    const base = Date.UTC(2026, 10, 1);
    let ours = 0;
    for (const [index, { id }] of rows.entries()) {
      const tenantId = index % OTHER_EVERY === OTHER_EVERY - 1 ? "44444444-4444-4444-8444-444444444444" : config.tenantId;
      if (tenantId === config.tenantId && ++ours > EVENTS) break;
      const mine = tenantId === config.tenantId;
      const fields = {
        prevHash: lastHash.get(tenantId) ?? GENESIS_HASH,
        id,
        at: new Date(base + index * 10),
        tenantId,
        // Nine in ten belong to the run; the rest are sign-ins.
        runId: mine && index % 10 !== 0 ? run.id : null,
        actorUpn: "admin@contoso.example",
        action: mine && index % 10 !== 0 ? "azure.write" : "auth.sign_in",
        target: `/subscriptions/s/resourceGroups/rg-${index % 97}/providers/Microsoft.Storage/storageAccounts/kubeaudit${index}`,
        outcome: "success" as const,
        detail: { kind: "create", i: index },
      };
      const hash = auditEventHash(fields);
      lastHash.set(tenantId, hash);
      if (mine && ours === TAMPERED) tampered = { ...fields, actorUserId: null, hash };
      columns.id.push(id);
      columns.at.push(fields.at.toISOString());
      columns.tenant.push(tenantId);
      columns.run.push(fields.runId);
      columns.upn.push(fields.actorUpn);
      columns.action.push(fields.action);
      columns.target.push(fields.target);
      columns.outcome.push(fields.outcome);
      columns.detail.push(JSON.stringify(fields.detail));
      columns.prev.push(fields.prevHash);
      columns.hash.push(hash);
      if (columns.id.length === 10_000) await insert();
    }
    if (columns.id.length > 0) await insert();
    await Promise.all(inFlight);
    await client.query("ANALYZE audit_events");
    const { rows: counts } = await client.query<{ n: string }>("SELECT count(*)::text AS n FROM audit_events WHERE tenant_id = $1", [
      config.tenantId,
    ]);
    expect(Number(counts[0]?.n)).toBe(EVENTS);
  } finally {
    await Promise.all([client.end(), second.end()]);
  }
  console.log(`[figures] inserted ${EVENTS} chained events (+ another tenant's) in ${Math.round(performance.now() - started)} ms`);
}, 120_000);

afterAll(async () => {
  await closeDb();
  await database?.drop();
  vi.unstubAllEnvs();
});

/** Streams a download through checkExportLines, sampling the heap: raw, and live (after a forced GC) every 16 chunks. */
async function streamAndCheck(body: ReadableStream<Uint8Array>) {
  gc();
  const before = process.memoryUsage();
  let peakHeap = 0;
  let peakLive = 0;
  let peakRss = 0;
  let peakRssAbs = 0;
  let chunks = 0;
  let lines = 0;
  let producing = 0;
  let end: AuditExportEnd["auditExportEnd"] | null = null;
  const started = performance.now();
  const reader = body.getReader();
  async function* split(): AsyncGenerator<string> {
    const decoder = new TextDecoder();
    let rest = "";
    const read = async () => {
      const started = performance.now();
      const next = await reader.read();
      producing += performance.now() - started;
      return next;
    };
    for (let next = await read(); !next.done; next = await read()) {
      const memory = process.memoryUsage();
      peakHeap = Math.max(peakHeap, memory.heapUsed - before.heapUsed);
      peakRss = Math.max(peakRss, memory.rss - before.rss);
      peakRssAbs = Math.max(peakRssAbs, memory.rss);
      if (++chunks % 16 === 0) {
        gc();
        peakLive = Math.max(peakLive, process.memoryUsage().heapUsed - before.heapUsed);
      }
      const parts = (rest + decoder.decode(next.value, { stream: true })).split("\n");
      rest = parts.pop() ?? "";
      for (const line of parts) {
        lines += 1;
        const parsed = parseExportLine(line, lines);
        if (parsed?.kind === "end") end = parsed.end;
        yield line;
      }
    }
    if (rest) yield rest;
  }
  const source = split();
  // Without return(): checkExportLines stops at a broken event, and the rest is still read to its end line below.
  const result = await checkExportLines({ [Symbol.asyncIterator]: () => ({ next: () => source.next() }) });
  for await (const _ of source);
  const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;
  return {
    result,
    end: end as AuditExportEnd["auditExportEnd"] | null,
    lines,
    chunks,
    ms: Math.round(performance.now() - started),
    // Time spent waiting for the stream (database reads, the server's chain check, serialising), not checking it.
    streamMs: Math.round(producing),
    heapMb: mb(peakHeap),
    liveMb: mb(peakLive),
    rssMb: mb(peakRss),
    rssPeakMb: mb(peakRssAbs),
  };
}

/** Every query the Prisma PostgreSQL adapter sends while `run` runs, with the rows each returned. */
async function queriesDuring<T>(
  run: () => Promise<T>,
): Promise<{ value: T; queries: { text: string; values: unknown[]; rows: number }[] }> {
  const queries: { text: string; values: unknown[]; rows: number }[] = [];
  const original = pg.Client.prototype.query;
  const spy = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as string | { text: string; values?: unknown[] };
    const query =
      typeof config === "string"
        ? { text: config, values: (Array.isArray(args[1]) ? args[1] : []) as unknown[], rows: 0 }
        : { text: config.text, values: config.values ?? [], rows: 0 };
    queries.push(query);
    const record = (result: unknown) => {
      query.rows = (result as { rows?: unknown[] } | undefined)?.rows?.length ?? 0;
    };
    // pg.Pool passes a callback; a checked-out client (transactions) gets a promise.
    const callback = args.findIndex((a) => typeof a === "function");
    if (callback >= 0) {
      const done = args[callback] as (error: unknown, result: unknown) => void;
      args[callback] = (error: unknown, result: unknown) => {
        record(result);
        done(error, result);
      };
    }
    const out = (original as (...a: unknown[]) => unknown).apply(this, args);
    if (out instanceof Promise) void out.then(record, () => undefined);
    return out as never;
  });
  try {
    return { value: await run(), queries };
  } finally {
    spy.mockRestore();
  }
}

interface Scan {
  node: string;
  rows: number;
}

/**
 * A page read is bounded whatever the table holds: the ids come from one backward index scan that reads at most twice the
 * page (the scope's own index, or the primary key when the planner's statistics say the scope holds most rows, as this
 * run does; then it skips the few rows of others), and the same rows are read once more by primary key. Nothing else.
 */
function expectOneBoundedPage(scans: { node: string; rows: number }[]): void {
  expect(scans).toHaveLength(2);
  const [ids, rows] = scans;
  expect(ids?.node).toMatch(/^Index (Only )?Scan audit_events_(run_id_id_idx|tenant_id_id_idx|pkey)$/);
  expect(ids!.rows).toBeGreaterThanOrEqual(AUDIT_PAGE_SIZE + 1);
  expect(ids!.rows).toBeLessThanOrEqual(2 * (AUDIT_PAGE_SIZE + 1));
  expect(rows).toEqual({ node: "Index Scan audit_events_pkey", rows: AUDIT_PAGE_SIZE + 1 });
}

/** EXPLAIN ANALYZE of a captured query: its text plan, and each scan with the rows it read over all its loops. */
async function explain(query: { text: string; values: unknown[] }): Promise<{ plan: string; scans: Scan[] }> {
  return withClient(async (client) => {
    const json = await client.query<{ "QUERY PLAN": { Plan: PlanNode }[] }>(`EXPLAIN (ANALYZE, FORMAT JSON) ${query.text}`, query.values);
    const text = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) ${query.text}`, query.values);
    const scans: Scan[] = [];
    const walk = (node: PlanNode) => {
      if (node["Node Type"].includes("Scan")) {
        const loops = node["Actual Loops"];
        scans.push({
          node: `${node["Node Type"]}${node["Index Name"] ? ` ${node["Index Name"]}` : ""}`,
          rows: (node["Actual Rows"] + (node["Rows Removed by Filter"] ?? 0)) * loops,
        });
      }
      for (const child of node.Plans ?? []) walk(child);
    };
    walk(json.rows[0]!["QUERY PLAN"][0]!.Plan);
    return { plan: text.rows.map((r) => r["QUERY PLAN"]).join("\n"), scans };
  });
}

interface PlanNode {
  "Node Type": string;
  "Index Name"?: string;
  "Actual Rows": number;
  "Actual Loops": number;
  "Rows Removed by Filter"?: number;
  Plans?: PlanNode[];
}

describe(`audit trail at ${EVENTS.toLocaleString("en")} events on PostgreSQL`, () => {
  it("streams the whole tenant export, intact, in bounded memory; a row changed in the database is named", async () => {
    const download = await auditDownload(session, { format: "jsonl" });
    if (!download.ok) throw new Error("expected a download");
    const intact = await streamAndCheck(download.body);
    console.log(
      `[figures] tenant export, ${EVENTS} events, ${intact.chunks} stream chunks: stream ${intact.streamMs} ms, with the test's own check ${intact.ms} ms; ` +
        `heap growth peak ${intact.heapMb} MB (live after GC ${intact.liveMb} MB); RSS growth ${intact.rssMb} MB, peak ${intact.rssPeakMb} MB`,
    );
    expect(intact.lines).toBe(1 + EVENTS + 1);
    expect(intact.end).toMatchObject({ complete: true, count: EVENTS, chain: "intact" });
    expect(intact.result).toMatchObject({ ok: true, count: EVENTS, partial: false });
    // The whole file is ~80 MB of text and 150,000 event objects; what stays live is about a chunk.
    expect(intact.liveMb).toBeLessThan(50);
    expect(intact.heapMb).toBeLessThan(100);

    await withClient((c) => c.query(`UPDATE audit_events SET outcome = 'failure' WHERE id = $1`, [tampered.id]));
    try {
      const again = await auditDownload(session, { format: "jsonl" });
      if (!again.ok) throw new Error("expected a download");
      const broken = await streamAndCheck(again.body);
      expect(broken.end).toMatchObject({ complete: true, count: EVENTS, chain: "broken", broken: { event: TAMPERED, id: tampered.id } });
      expect(broken.result).toEqual({ ok: false, message: expect.stringContaining(`BROKEN at event #${TAMPERED} (id ${tampered.id})`) });
    } finally {
      await withClient((c) => c.query(`UPDATE audit_events SET outcome = 'success' WHERE id = $1`, [tampered.id]));
    }
  }, 90_000);

  it("the run page reads one bounded page newest first in one query, and pages back by cursor", async () => {
    const first = await queriesDuring(() => runAuditTrail(session, view.run.id, { view }));
    expect(first.value?.events).toHaveLength(AUDIT_PAGE_SIZE);
    expect(first.value?.older).toBe(first.value?.events.at(-1)?.id);
    const ids = first.value!.events.map((e) => BigInt(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => (a > b ? -1 : 1)));
    expect(first.queries).toHaveLength(1);
    expect(first.queries[0]?.text).toMatch(/FROM "audit_events"/);
    expect(first.queries[0]?.rows).toBe(AUDIT_PAGE_SIZE + 1);
    const plan = await explain(first.queries[0]!);
    console.log(`[figures] run page query (EXPLAIN ANALYZE):\n${plan.plan}`);
    expectOneBoundedPage(plan.scans);

    const second = await queriesDuring(() => runAuditTrail(session, view.run.id, { view, before: first.value!.older }));
    expect(second.queries).toHaveLength(1);
    expect(second.value?.events).toHaveLength(AUDIT_PAGE_SIZE);
    expect(BigInt(second.value!.events[0]!.id)).toBeLessThan(BigInt(first.value!.older!));
    expectOneBoundedPage((await explain(second.queries[0]!)).scans);

    const tenantPage = await queriesDuring(() => listAuditPage({ tenantId: session.user.tenantId }, { limit: AUDIT_PAGE_SIZE }));
    expect(tenantPage.queries).toHaveLength(1);
    const tenantPlan = await explain(tenantPage.queries[0]!);
    console.log(`[figures] tenant page query (EXPLAIN ANALYZE):\n${tenantPlan.plan}`);
    expectOneBoundedPage(tenantPlan.scans);
  }, 60_000);

  it("the vendor detail reads the run's newest page, not the oldest 500", async () => {
    const detail = await queriesDuring(() => getRunAcrossTenants(view.run.id, { limit: AUDIT_PAGE_SIZE }));
    expect(detail.value?.auditEvents).toHaveLength(AUDIT_PAGE_SIZE);
    expect(detail.value?.auditEvents[0]?.id).toBe((await runAuditTrail(session, view.run.id, { view }))?.events[0]?.id);
    const audit = detail.queries.filter((q) => /"audit_events"/.test(q.text));
    // The page, and lastActs' latest decision.
    expect(audit.map((q) => q.rows).sort((a, b) => a - b)).toEqual([1, AUDIT_PAGE_SIZE + 1]);
  }, 60_000);
});

async function withClient<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: database!.url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}
