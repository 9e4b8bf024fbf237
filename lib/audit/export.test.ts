import { afterEach, describe, expect, it, vi } from "vitest";
import type { AuditEvent } from "@/lib/db/audit";
import { auditEventHash, GENESIS_HASH } from "@/lib/db/audit-hash";
import { verifyChain } from "./chain";
import { auditExportStream, checkExportLines, csvCell, parseJsonLines, type AuditExportSource } from "./export";
import { captureLog } from "@/test/support/log-capture";

function event(over: Partial<Omit<AuditEvent, "prevHash">> & { prevHash?: string } = {}): AuditEvent {
  const fields = {
    prevHash: GENESIS_HASH,
    id: "1",
    at: new Date("2026-11-27T05:00:00.123Z"),
    tenantId: "t",
    runId: "run-abcdefghijklmnop",
    actorUpn: "owner@contoso.example",
    action: "azure.write",
    target: "/subscriptions/s",
    outcome: "success" as const,
    detail: { kind: "create", note: 'a "quoted", multi\nline value' },
    ...over,
  };
  return { ...fields, actorUserId: null, hash: auditEventHash(fields) };
}

function chain(n: number): AuditEvent[] {
  const events: AuditEvent[] = [];
  for (let i = 1; i <= n; i++)
    events.push(event({ id: String(i), prevHash: events.at(-1)?.hash ?? GENESIS_HASH, action: `a.${i}`, detail: { i } }));
  return events;
}

async function* chunksOf(events: readonly AuditEvent[], size: number, failAfter = Infinity): AsyncGenerator<AuditEvent[]> {
  for (let i = 0; i < events.length; i += size) {
    if (i >= failAfter) throw new Error("connection reset");
    yield events.slice(i, i + size);
  }
}

const source = (over: Partial<AuditExportSource> & Pick<AuditExportSource, "chunks">): AuditExportSource => ({
  format: "jsonl",
  scope: "tenant",
  tenantId: "t",
  runId: null,
  ...over,
});

async function read(stream: ReadableStream<Uint8Array>): Promise<{ text: string; error: unknown }> {
  const decoder = new TextDecoder();
  const reader = stream.getReader();
  let text = "";
  try {
    for (let next = await reader.read(); !next.done; next = await reader.read()) text += decoder.decode(next.value, { stream: true });
  } catch (error) {
    return { text, error };
  }
  return { text, error: null };
}

afterEach(() => vi.restoreAllMocks());

describe("CSV", () => {
  it("quotes per RFC 4180 and neutralises formulas", () => {
    expect(csvCell(null)).toBe("");
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell('a,b "c"')).toBe('"a,b ""c"""');
    expect(csvCell("two\r\nlines")).toBe('"two\r\nlines"');
    for (const f of ['=HYPERLINK("x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]) expect(csvCell(f).replace(/^"/, "")).toMatch(/^'/);
    expect(csvCell('=cmd|"/c calc"!A0')).toBe(`"'=cmd|""/c calc""!A0"`);
  });

  it("streams a header row and one CRLF-terminated row per event, formula cells neutralised", async () => {
    const events = [event({ actorUpn: "=evil@x", target: null }), event({ id: "2", action: "+SUM(1)", target: "@x" })];
    const { text, error } = await read(auditExportStream(source({ format: "csv", chunks: chunksOf(events, 1) })));
    expect(error).toBeNull();
    const [header, row, second, rest] = text.split("\r\n");
    expect(header).toBe("id,at,tenantId,runId,actorUpn,action,target,outcome,detail,prevHash,hash");
    expect(row).toContain(",'=evil@x,azure.write,,success,");
    expect(row).toContain('"{""kind"":""create"",""note"":""a \\""quoted\\"", multi\\nline value""}"');
    expect(second).toContain(",'+SUM(1),'@x,success,");
    expect(rest).toBe("");
  });

  it("errors the stream when reading stops midway, so the download fails instead of ending short", async () => {
    const capture = captureLog();
    try {
      const { text, error } = await read(auditExportStream(source({ format: "csv", chunks: chunksOf(chain(6), 2, 4) })));
      expect(error).toMatchObject({ message: "connection reset" });
      expect(text.split("\r\n").filter(Boolean)).toHaveLength(1 + 4);
      expect(capture.lines).toMatchObject([
        { level: "error", event: "audit.export_stopped", tenantId: "t", events: 4, error: "Error: connection reset" },
      ]);
    } finally {
      capture.stop();
    }
  });
});

describe("JSON Lines", () => {
  it("streams a header, the events and an end line with the count, end hashes and the chain check; round-trips", async () => {
    const events = chain(5);
    const { text } = await read(auditExportStream(source({ chunks: chunksOf(events, 2) })));
    const lines = text.trimEnd().split("\n");
    expect(lines).toHaveLength(1 + 5 + 1);
    expect(JSON.parse(lines[0]!)).toEqual({
      auditExport: {
        version: 2,
        scope: "tenant",
        tenantId: "t",
        runId: null,
        exportedAt: expect.any(String),
        check: expect.stringContaining("audit:verify"),
        note: expect.stringContaining("auditExportEnd"),
      },
    });
    expect(JSON.parse(lines[6]!)).toEqual({
      auditExportEnd: { complete: true, count: 5, firstHash: events[0]!.hash, lastHash: events[4]!.hash, chain: "intact" },
    });

    const parsed = parseJsonLines(text);
    expect(parsed.header).toMatchObject({ scope: "tenant", count: 5, firstHash: events[0]!.hash, lastHash: events[4]!.hash });
    expect(parsed.events).toEqual(events.map(({ actorUserId: _, ...rest }) => rest));
    expect(verifyChain(parsed.events)).toMatchObject({ ok: true, count: 5 });
    expect(await checkExportLines(text.split("\n"))).toEqual({
      ok: true,
      count: 5,
      firstHash: events[0]!.hash,
      lastHash: events[4]!.hash,
      partial: false,
    });
  });

  it("writes all of a tampered chain and says in the end line where it broke", async () => {
    const events = chain(5);
    events[2] = { ...events[2]!, outcome: "denied" };
    const { text } = await read(auditExportStream(source({ chunks: chunksOf(events, 2) })));
    expect(parseJsonLines(text).events).toHaveLength(5);
    expect(parseJsonLines(text).end).toMatchObject({
      complete: true,
      count: 5,
      chain: "broken",
      broken: { event: 3, id: "3", reason: expect.stringMatching(/altered/) },
    });
    expect(await checkExportLines(text.split("\n"))).toEqual({ ok: false, message: expect.stringMatching(/^BROKEN at event #3 \(id 3\)/) });
  });

  it("checks a run export as a subset: gaps allowed, each event's hash checked", async () => {
    const subset = chain(6).filter((_, i) => i % 2 === 1);
    const { text } = await read(auditExportStream(source({ scope: "run", runId: "run-abcdefghijklmnop", chunks: chunksOf(subset, 2) })));
    expect(parseJsonLines(text).end).toMatchObject({ complete: true, count: 3, chain: "intact" });
    expect(await checkExportLines(text.split("\n"))).toMatchObject({ ok: true, count: 3, partial: true });
    expect(await checkExportLines(text.replace('"a.4"', '"a.9"').split("\n"))).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^BROKEN at event #2/),
    });
  });

  it("when reading stops midway: an end line saying the export is incomplete, then a stream error", async () => {
    const capture = captureLog();
    const { text, error } = await read(auditExportStream(source({ chunks: chunksOf(chain(6), 2, 4) })));
    capture.stop();
    expect(error).toMatchObject({ message: "connection reset" });
    const parsed = parseJsonLines(text);
    expect(parsed.events).toHaveLength(4);
    expect(parsed.end).toMatchObject({
      complete: false,
      count: 4,
      chain: "intact",
      error: expect.stringMatching(/stopped after 4 events/),
    });
    expect(await checkExportLines(text.split("\n"))).toEqual({
      ok: false,
      message: expect.stringMatching(/^INCOMPLETE: the export stopped early after 4 events/),
    });
  });

  it("reads the next chunk only when the previous one was taken, and stops reading when the download is cancelled", async () => {
    let pulled = 0;
    let closed = false;
    async function* counting(): AsyncGenerator<AuditEvent[]> {
      try {
        for (const events of [chain(2), chain(2), chain(2), chain(2)]) {
          pulled += 1;
          yield events;
        }
      } finally {
        closed = true;
      }
    }
    const reader = auditExportStream(source({ chunks: counting() })).getReader();
    await reader.read(); // the header
    await reader.read(); // the first chunk
    await new Promise((r) => setTimeout(r, 10));
    expect(pulled).toBeLessThanOrEqual(2);
    await reader.cancel();
    expect(closed).toBe(true);
    expect(pulled).toBeLessThanOrEqual(2);
  });

  it("names a bad line", () => {
    expect(() => parseJsonLines('{"id":"1"}\nnot json')).toThrow(/line 1/);
    expect(() => parseJsonLines("\n\nnope")).toThrow(/line 3: not JSON/);
    expect(() => parseJsonLines('{"auditExport":null}')).toThrow(/line 1: not an export header/);
  });
});

describe("checkExportLines", () => {
  const exported = async (events: AuditEvent[]) =>
    (await read(auditExportStream(source({ chunks: chunksOf(events, 3) })))).text.split("\n");

  it("calls a file without its end line incomplete (a cut download), even when the chain itself is intact", async () => {
    const lines = await exported(chain(7));
    const cut = lines.slice(0, 5);
    expect(verifyChain(parseJsonLines(cut.join("\n")).events)).toMatchObject({ ok: true, count: 4 });
    expect(await checkExportLines(cut)).toEqual({
      ok: false,
      message: "INCOMPLETE: no end line after 4 events: the file was cut off (download it again)",
    });
  });

  it("refuses an end line whose count or end hashes don't match the events, and lines after it", async () => {
    const lines = (await exported(chain(4))).filter(Boolean);
    const end = lines.at(-1)!;
    expect(await checkExportLines([...lines.slice(0, -2), end])).toEqual({
      ok: false,
      message: "BROKEN: the export says 4 events, the file has 3",
    });
    expect(
      await checkExportLines([...lines.slice(0, -1), end.replace('"count":4', '"count":3')].filter((l) => !l.includes('"a.4"'))),
    ).toEqual({
      ok: false,
      message: expect.stringMatching(/first or last hash differs/),
    });
    expect(await checkExportLines([...lines, lines[1]!])).toEqual({
      ok: false,
      message: `BROKEN: line ${lines.length + 1} follows the export's end line`,
    });
  });

  it("still checks exports written before version 2 (count and end hashes in the header)", async () => {
    const events = chain(3);
    const legacy = [
      JSON.stringify({
        auditExport: {
          scope: "tenant",
          tenantId: "t",
          runId: null,
          count: 3,
          firstHash: events[0]!.hash,
          lastHash: events[2]!.hash,
          exportedAt: "",
          check: "",
        },
      }),
      ...(await exported(events)).slice(1, 4),
    ];
    expect(await checkExportLines(legacy)).toMatchObject({ ok: true, count: 3 });
    expect(await checkExportLines(legacy.slice(0, 3))).toEqual({ ok: false, message: "BROKEN: the export says 3 events, the file has 2" });
  });
});
