import { describe, expect, it } from "vitest";
import type { AuditEvent } from "@/lib/db/audit";
import { auditEventHash, GENESIS_HASH } from "@/lib/db/audit-hash";
import { verifyChain } from "./chain";
import { csvCell, parseJsonLines, toCsv, toJsonLines } from "./export";

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

describe("CSV", () => {
  it("quotes per RFC 4180 and neutralises formulas", () => {
    expect(csvCell(null)).toBe("");
    expect(csvCell("plain")).toBe("plain");
    expect(csvCell('a,b "c"')).toBe('"a,b ""c"""');
    expect(csvCell("two\r\nlines")).toBe('"two\r\nlines"');
    for (const f of ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx"]) expect(csvCell(f).replace(/^"/, "")).toMatch(/^'/);
    expect(csvCell('=cmd|"/c calc"!A0')).toBe(`"'=cmd|""/c calc""!A0"`);
  });

  it("has a header row and one CRLF-terminated row per event", () => {
    const csv = toCsv([event({ actorUpn: "=evil@x", target: null })]);
    const [header, row, rest] = csv.split("\r\n");
    expect(header).toBe("id,at,tenantId,runId,actorUpn,action,target,outcome,detail,prevHash,hash");
    expect(row).toContain(",'=evil@x,azure.write,,success,");
    expect(row).toContain('"{""kind"":""create"",""note"":""a \\""quoted\\"", multi\\nline value""}"');
    expect(rest).toBe("");
  });
});

describe("JSON Lines", () => {
  it("round-trips events and header; the parsed chain verifies", () => {
    const first = event();
    const second = event({ id: "2", prevHash: first.hash!, detail: null, target: null, runId: null });
    const header = { auditExport: { scope: "tenant" as const, tenantId: "t", runId: null, count: 2, firstHash: first.hash, lastHash: second.hash, exportedAt: "x", check: "c" } };
    const text = toJsonLines([first, second], header);
    expect(text.split("\n")).toHaveLength(4);
    const parsed = parseJsonLines(text);
    expect(parsed.header).toEqual(header.auditExport);
    expect(parsed.events).toEqual([first, second].map(({ actorUserId: _, ...rest }) => rest));
    expect(verifyChain(parsed.events)).toMatchObject({ ok: true, count: 2 });

    const tampered = text.replace("owner@contoso.example", "other@contoso.example");
    expect(verifyChain(parseJsonLines(tampered).events)).toMatchObject({ ok: false, brokenAt: 0 });
  });

  it("names a bad line", () => {
    expect(() => parseJsonLines('{"id":"1"}\nnot json')).toThrow(/line 1/);
    expect(() => parseJsonLines("\n\nnope")).toThrow(/line 3: not JSON/);
  });
});
