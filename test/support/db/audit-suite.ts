// Shared vitest suite for the hash-chained audit trail and its tenant-authorized exports, run against PGlite and
// PostgreSQL. Test-only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditDownload, runAuditTrail } from "@/lib/audit/access";
import { verifyChain } from "@/lib/audit/chain";
import { auditExportStream, checkExportLines, parseJsonLines } from "@/lib/audit/export";
import {
  listAuditChain,
  listAuditPage,
  readAuditChain,
  recordAuditEvent,
  recordAuditEvents,
  type AuditEvent,
  type AuditPage,
} from "@/lib/db/audit";
import { GENESIS_HASH } from "@/lib/db/audit-hash";
import { closeDb, configureDb, db, migrate, type DbOptions } from "@/lib/db/client";
import { createRun } from "@/lib/db/runs";
import { createSession, findSession, type SessionWithUser } from "@/lib/db/sessions";
import { upsertUser } from "@/lib/db/users";

let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now()}-${++seq}`;
const text = (body: ReadableStream<Uint8Array>) => new Response(body).text();
const ids = (events: readonly AuditEvent[]) => events.map((e) => e.id);

/** Registers the audit-chain tests on the database that `options()` describes (resolved in beforeAll). */
export function describeAuditQueries(label: string, options: () => DbOptions): void {
  describe(`lib/db audit chain on ${label}`, () => {
    beforeAll(async () => {
      configureDb(options());
      await migrate();
    }, 120_000);
    afterAll(() => closeDb());

    const signedIn = async (tenantId = unique("tenant")): Promise<SessionWithUser> => {
      const user = await upsertUser({ tenantId, objectId: unique("oid"), upn: "admin@contoso.example", displayName: "Admin" });
      const tokenHash = unique("session");
      await createSession({ tokenHash, userId: user.id, homeAccountId: "h", tokenCache: "c", expiresAt: new Date(Date.now() + 60_000) });
      return (await findSession(tokenHash))!;
    };
    const newRun = (session: SessionWithUser) =>
      createRun({
        tenantId: session.user.tenantId,
        createdByUserId: session.user.id,
        createdByUpn: session.user.upn,
        config: {},
        steps: ["storage"],
      });

    it("chains a tenant's events from the genesis hash, separately per tenant, with runId", async () => {
      const tenantId = unique("tenant");
      const other = unique("tenant");
      const a = await recordAuditEvent({
        tenantId,
        actorUpn: "a@x",
        action: "run.created",
        target: "r",
        outcome: "success",
        runId: "run-1",
        detail: { b: 2, a: { y: [1, "x"], x: null } },
      });
      const o = await recordAuditEvent({ tenantId: other, actorUpn: "o@x", action: "auth.sign_in", outcome: "success" });
      const b = await recordAuditEvent({ tenantId, actorUpn: "a@x", action: "azure.write", outcome: "failure" });
      expect(a).toMatchObject({ prevHash: GENESIS_HASH, runId: "run-1", hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(o.prevHash).toBe(GENESIS_HASH);
      expect(b).toMatchObject({ prevHash: a.hash, runId: null });
      const events = await listAuditChain({ tenantId });
      expect(events).toEqual([a, b]);
      expect(verifyChain(events)).toEqual({ ok: true, count: 2, firstHash: a.hash, lastHash: b.hash });
      expect(await listAuditChain({ tenantId, runId: "run-1" })).toEqual([a]);
    });

    it("keeps one unbroken chain under concurrent appends", async () => {
      const tenantId = unique("tenant");
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          recordAuditEvent({ tenantId, actorUpn: "a@x", action: `concurrent.${i}`, outcome: "success", detail: { i } }),
        ),
      );
      const events = await listAuditChain({ tenantId });
      expect(events).toHaveLength(10);
      expect(verifyChain(events)).toMatchObject({ ok: true, count: 10 });
      expect(new Set(events.map((e) => e.prevHash)).size).toBe(10);
    }, 60_000);

    it("appends batches in input order, interleaved with single appends and across tenants, as one unbroken chain per tenant", async () => {
      const tenantId = unique("tenant");
      const other = unique("tenant");
      const event = (t: string, i: number) => ({
        tenantId: t,
        actorUpn: "a@x",
        action: `batch.${i}`,
        outcome: "success" as const,
        detail: { i },
      });
      const [batches] = await Promise.all([
        Promise.all(
          Array.from({ length: 4 }, (_, b) =>
            recordAuditEvents(Array.from({ length: 5 }, (_, i) => event(i % 2 ? other : tenantId, b * 5 + i))),
          ),
        ),
        Promise.all(Array.from({ length: 5 }, (_, i) => recordAuditEvent(event(tenantId, 100 + i)))),
      ]);
      for (const batch of batches) {
        expect(batch.map((e) => e.action)).toEqual([...batch].sort((a, b) => Number(BigInt(a.id) - BigInt(b.id))).map((e) => e.action));
      }
      const mine = await listAuditChain({ tenantId });
      expect(mine).toHaveLength(4 * 3 + 5);
      expect(verifyChain(mine)).toMatchObject({ ok: true, count: 17 });
      expect(verifyChain(await listAuditChain({ tenantId: other }))).toMatchObject({ ok: true, count: 8 });
      expect(await recordAuditEvents([])).toEqual([]);
    }, 60_000);

    it("detects a row tampered with, or deleted, by raw SQL", async () => {
      const tenantId = unique("tenant");
      for (let i = 0; i < 5; i++)
        await recordAuditEvent({ tenantId, actorUpn: "a@x", action: `a.${i}`, outcome: "success", detail: { i } });
      const events = await listAuditChain({ tenantId });
      const prisma = await db();

      await prisma.$executeRaw`UPDATE "audit_events" SET "outcome" = 'denied' WHERE "id" = ${BigInt(events[2]!.id)}`;
      expect(verifyChain(await listAuditChain({ tenantId }))).toMatchObject({ ok: false, brokenAt: 2, id: events[2]!.id });

      await prisma.$executeRaw`UPDATE "audit_events" SET "outcome" = 'success' WHERE "id" = ${BigInt(events[2]!.id)}`;
      expect(verifyChain(await listAuditChain({ tenantId })).ok).toBe(true);
      await prisma.$executeRaw`UPDATE "audit_events" SET "detail" = '{"i": 99}'::jsonb WHERE "id" = ${BigInt(events[1]!.id)}`;
      expect(verifyChain(await listAuditChain({ tenantId }))).toMatchObject({ ok: false, brokenAt: 1 });

      await prisma.$executeRaw`DELETE FROM "audit_events" WHERE "id" = ${BigInt(events[1]!.id)}`;
      expect(verifyChain(await listAuditChain({ tenantId }))).toMatchObject({ ok: false, brokenAt: 1, id: events[2]!.id });
    });

    it("exports only the session tenant's runs; another tenant's run is 403, no session 401", async () => {
      const admin = await signedIn();
      const stranger = await signedIn();
      const run = await newRun(admin);
      await recordAuditEvent({
        tenantId: admin.user.tenantId,
        actorUpn: admin.user.upn,
        action: "run.created",
        target: run.id,
        outcome: "success",
        runId: run.id,
      });
      await recordAuditEvent({ tenantId: admin.user.tenantId, actorUpn: admin.user.upn, action: "auth.sign_in", outcome: "success" });
      await recordAuditEvent({
        tenantId: admin.user.tenantId,
        actorUpn: "=cmd@x",
        action: "azure.write",
        target: "/s/x",
        outcome: "success",
        runId: run.id,
        detail: { kind: "create" },
      });

      expect(await auditDownload(stranger, { runId: run.id, format: "jsonl" })).toEqual({ ok: false, status: 403 });
      expect(await auditDownload(stranger, { runId: "../../etc", format: "csv" })).toEqual({ ok: false, status: 403 });
      expect(await auditDownload(null, { runId: run.id, format: "jsonl" })).toEqual({ ok: false, status: 401 });
      expect(await auditDownload(admin, { runId: run.id, format: "xml" })).toEqual({ ok: false, status: 400 });
      expect(await runAuditTrail(stranger, run.id)).toBeNull();
      expect((await runAuditTrail(admin, run.id))?.events.map((e) => e.action)).toEqual(["azure.write", "run.created"]);

      const runExport = await auditDownload(admin, { runId: run.id, format: "jsonl" });
      if (!runExport.ok) throw new Error("expected a download");
      expect(runExport.filename).toMatch(new RegExp(`^audit-run-${run.id}-.*\\.jsonl$`));
      const parsed = parseJsonLines(await text(runExport.body));
      expect(parsed.header).toMatchObject({ scope: "run", runId: run.id, count: 2, check: expect.stringContaining("audit:verify") });
      expect(parsed.events.map((e) => e.action)).toEqual(["run.created", "azure.write"]);
      expect(verifyChain(parsed.events)).toMatchObject({ ok: false, brokenAt: 1 }); // a gap: the sign-in isn't in the run
      expect(verifyChain(parsed.events, { partial: true })).toMatchObject({ ok: true, count: 2, lastHash: parsed.header?.lastHash });

      const tenantExport = await auditDownload(admin, { format: "jsonl" });
      if (!tenantExport.ok) throw new Error("expected a download");
      const whole = parseJsonLines(await text(tenantExport.body));
      expect(whole.header).toMatchObject({ scope: "tenant", count: 3 });
      expect(whole.end).toMatchObject({ complete: true, count: 3, chain: "intact" });
      expect(whole.events.every((e) => e.tenantId === admin.user.tenantId)).toBe(true);
      expect(verifyChain(whole.events)).toMatchObject({ ok: true, count: 3 });

      const csv = await auditDownload(admin, { runId: run.id, format: "csv" });
      expect(csv).toMatchObject({ ok: true, contentType: expect.stringMatching(/^text\/csv/) });
      if (csv.ok) expect(await text(csv.body)).toContain(",'=cmd@x,");
    });

    it("pages a tenant's and a run's events newest first by cursor, one page at a time, to the last page", async () => {
      const admin = await signedIn();
      const tenantId = admin.user.tenantId;
      const run = await newRun(admin);
      const recorded: AuditEvent[] = [];
      for (let i = 0; i < 7; i++) {
        recorded.push(
          await recordAuditEvent({
            tenantId,
            actorUpn: "a@x",
            action: `a.${i}`,
            outcome: "success",
            detail: { i, nested: { list: [i, "x"] } },
            ...(i % 3 === 2 ? {} : { runId: run.id }),
          }),
        );
        await recordAuditEvent({ tenantId: unique("tenant"), actorUpn: "o@x", action: "other", outcome: "success", runId: run.id });
      }
      const newest = [...recorded].reverse();

      const first = await listAuditPage({ tenantId }, { limit: 3 });
      expect(ids(first.events)).toEqual(ids(newest.slice(0, 3)));
      expect(first.older).toBe(newest[2]!.id);
      const second = await listAuditPage({ tenantId }, { limit: 3, before: first.older });
      expect(ids(second.events)).toEqual(ids(newest.slice(3, 6)));
      const last = await listAuditPage({ tenantId }, { limit: 3, before: second.older });
      expect(last).toEqual({ events: [newest[6]], older: null });
      expect(await listAuditPage({ tenantId }, { limit: 7 })).toEqual({ events: newest, older: null });

      // Another tenant's events carrying this run's id take a place in a page but are never shown; paging goes on past them.
      const inRun = newest.filter((e) => e.runId === run.id);
      expect(inRun).toHaveLength(5);
      const pages: AuditEvent[][] = [];
      for (let before: string | null = null, n = 0; n === 0 || before !== null; n++) {
        const page: AuditPage = (await runAuditTrail(admin, run.id, { limit: 2, before }))!;
        expect(page.events.length).toBeLessThanOrEqual(2);
        pages.push(page.events);
        before = page.older;
      }
      expect(pages.flat()).toEqual(inRun);
      expect(pages.length).toBeGreaterThanOrEqual(3);

      // A cursor from a URL that isn't one is the newest page; limits are clamped to 1..500.
      for (const before of ["abc", "-1", "0", "1e3", "99999999999999999999", ""])
        expect(await listAuditPage({ tenantId }, { limit: 3, before })).toEqual(first);
      expect((await listAuditPage({ tenantId }, { limit: 0 })).events).toEqual(newest.slice(0, 1));
      expect(await listAuditPage({ tenantId: unique("tenant") }, { limit: 3 })).toEqual({ events: [], older: null });
    });

    it("reads the chain oldest first in chunks, ending at the newest event present when reading starts", async () => {
      const tenantId = unique("tenant");
      const recorded = await recordAuditEvents(
        Array.from({ length: 5 }, (_, i) => ({
          tenantId,
          actorUpn: "a@x",
          action: `c.${i}`,
          outcome: "success" as const,
          runId: i % 2 ? "run-odd" : null,
        })),
      );
      await recordAuditEvent({ tenantId: unique("tenant"), actorUpn: "o@x", action: "other", outcome: "success" });

      const chunks: AuditEvent[][] = [];
      for await (const chunk of readAuditChain({ tenantId }, { chunkSize: 2 })) {
        chunks.push(chunk);
        // Appended while the export runs: after its end, so not in it.
        if (chunks.length === 1) await recordAuditEvent({ tenantId, actorUpn: "a@x", action: "late", outcome: "success" });
      }
      expect(chunks.map((c) => c.length)).toEqual([2, 2, 1]);
      expect(chunks.flat()).toEqual(recorded);
      expect((await listAuditChain({ tenantId })).map((e) => e.action)).toEqual([...recorded.map((e) => e.action), "late"]);

      const runChunks: AuditEvent[][] = [];
      for await (const chunk of readAuditChain({ tenantId, runId: "run-odd" }, { chunkSize: 1 })) runChunks.push(chunk);
      expect(runChunks).toEqual([[recorded[1]], [recorded[3]]]);
      for await (const _ of readAuditChain({ tenantId: unique("tenant") })) throw new Error("an unknown tenant has no events");
    });

    it("streams an export in small chunks that verifies, and one whose end line names a row changed in the database", async () => {
      const tenantId = unique("tenant");
      const recorded = await recordAuditEvents(
        Array.from({ length: 9 }, (_, i) => ({ tenantId, actorUpn: "a@x", action: `e.${i}`, outcome: "success" as const, detail: { i } })),
      );
      const exported = () =>
        text(
          auditExportStream({
            format: "jsonl",
            scope: "tenant",
            tenantId,
            runId: null,
            chunks: readAuditChain({ tenantId }, { chunkSize: 4 }),
          }),
        );

      const intact = await exported();
      expect(parseJsonLines(intact).events).toHaveLength(9);
      expect(await checkExportLines(intact.split("\n"))).toEqual({
        ok: true,
        count: 9,
        firstHash: recorded[0]!.hash,
        lastHash: recorded[8]!.hash,
        partial: false,
      });

      const prisma = await db();
      await prisma.$executeRaw`UPDATE "audit_events" SET "actor_upn" = 'mallory@x' WHERE "id" = ${BigInt(recorded[5]!.id)}`;
      const tampered = await exported();
      expect(parseJsonLines(tampered).end).toMatchObject({
        complete: true,
        count: 9,
        chain: "broken",
        broken: { event: 6, id: recorded[5]!.id },
      });
      expect(await checkExportLines(tampered.split("\n"))).toEqual({
        ok: false,
        message: expect.stringContaining(`BROKEN at event #6 (id ${recorded[5]!.id})`),
      });
    });
  });
}
