import { describe, expect, it } from "vitest";
import { auditEventHash, GENESIS_HASH } from "@/lib/db/audit-hash";
import type { AuditEvent } from "@/lib/db/audit";
import { ChainVerifier, verifyChain } from "./chain";

// A chain built the way recordAuditEvent builds it.
function chain(n: number, start = 1): AuditEvent[] {
  const events: AuditEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const fields = {
      prevHash,
      id: String(start + i),
      at: new Date(Date.UTC(2026, 10, 27, 5, 0, i)),
      tenantId: "tenant-1",
      runId: i % 2 ? "run-abcdefghijklmnop" : null,
      actorUpn: "owner@contoso.example",
      action: "azure.write",
      target: `/subscriptions/s/resourceGroups/rg/providers/x/${i}`,
      outcome: "success" as const,
      detail: { kind: "create", resourceId: `/r/${i}`, nested: { b: 1, a: [true, null] } },
    };
    const hash = auditEventHash(fields);
    events.push({ ...fields, actorUserId: null, hash });
    prevHash = hash;
  }
  return events;
}

describe("verifyChain", () => {
  it("accepts an intact chain and reports its ends", () => {
    const events = chain(5);
    expect(verifyChain(events)).toEqual({ ok: true, count: 5, firstHash: events[0]!.hash, lastHash: events[4]!.hash });
    expect(verifyChain([])).toEqual({ ok: true, count: 0, firstHash: null, lastHash: null });
  });

  it("hashes detail independent of key order", () => {
    const [event] = chain(1);
    const reordered = { ...event!, detail: { nested: { a: [true, null], b: 1 }, resourceId: "/r/0", kind: "create" } };
    expect(verifyChain([reordered]).ok).toBe(true);
  });

  const tampers: [string, (e: AuditEvent) => AuditEvent][] = [
    ["at", (e) => ({ ...e, at: new Date(e.at.getTime() + 1) })],
    ["tenantId", (e) => ({ ...e, tenantId: "tenant-2" })],
    ["runId", (e) => ({ ...e, runId: "run-other" })],
    ["actorUpn", (e) => ({ ...e, actorUpn: "mallory@contoso.example" })],
    ["action", (e) => ({ ...e, action: "auth.sign_in" })],
    ["target", (e) => ({ ...e, target: null })],
    ["outcome", (e) => ({ ...e, outcome: "failure" })],
    ["detail", (e) => ({ ...e, detail: { kind: "delete" } })],
    ["id", (e) => ({ ...e, id: String(Number(e.id) + 100) })],
    ["prevHash", (e) => ({ ...e, prevHash: GENESIS_HASH })],
    ["hash", (e) => ({ ...e, hash: "f".repeat(64) })],
  ];
  it.each(tampers)("detects a change to %s of one event, at its index", (_field, tamper) => {
    const events = chain(6);
    events[3] = tamper(events[3]!);
    const verdict = verifyChain(events);
    expect(verdict).toMatchObject({ ok: false, brokenAt: 3 });
  });

  it("detects a deleted event at the one after the gap", () => {
    const events = chain(6);
    events.splice(2, 1);
    expect(verifyChain(events)).toMatchObject({ ok: false, brokenAt: 2, reason: expect.stringMatching(/link broken/) });
  });

  it("detects a deleted first event", () => {
    expect(verifyChain(chain(4).slice(1))).toMatchObject({ ok: false, brokenAt: 0, reason: expect.stringMatching(/genesis/) });
  });

  it("detects reordered events", () => {
    const events = chain(6);
    [events[2], events[3]] = [events[3]!, events[2]!];
    expect(verifyChain(events)).toMatchObject({ ok: false, brokenAt: 2 });
    expect(verifyChain(events, { partial: true })).toMatchObject({ ok: false, brokenAt: 3, reason: expect.stringMatching(/order/) });
  });

  it("detects a removed hash after the chain started, accepts unchained events before it", () => {
    const events = chain(4);
    events[2] = { ...events[2]!, hash: null };
    expect(verifyChain(events)).toMatchObject({ ok: false, brokenAt: 2 });
    const legacy = { ...chain(1)[0]!, id: "0", prevHash: null, hash: null };
    expect(verifyChain([legacy, ...chain(3)])).toMatchObject({ ok: true, count: 3 });
  });

  it("partial: allows gaps of a subset but still checks every event's hash", () => {
    const subset = chain(8).filter((_, i) => i % 2 === 1);
    expect(verifyChain(subset)).toMatchObject({ ok: false, brokenAt: 0 });
    expect(verifyChain(subset, { partial: true })).toMatchObject({ ok: true, count: 4 });
    subset[2] = { ...subset[2]!, actorUpn: "x@y" };
    expect(verifyChain(subset, { partial: true })).toMatchObject({ ok: false, brokenAt: 2 });
  });
});

describe("ChainVerifier", () => {
  it("gives verifyChain's verdict one event at a time, holding only the previous event", () => {
    const events = chain(6);
    const verifier = new ChainVerifier();
    for (const [i, event] of events.entries()) {
      expect(verifier.add(event)).toBe(true);
      expect(verifier.verdict()).toEqual(verifyChain(events.slice(0, i + 1)));
    }
  });

  it("stays broken at the first bad event; later events are not checked", () => {
    const events = chain(6);
    events[2] = { ...events[2]!, target: "/elsewhere" };
    const verifier = new ChainVerifier();
    expect(events.map((e) => verifier.add(e))).toEqual([true, true, false, false, false, false]);
    expect(verifier.verdict()).toEqual({ ok: false, brokenAt: 2, id: "3", reason: expect.stringMatching(/altered/) });
    expect(verifier.verdict()).toEqual(verifyChain(events));
  });

  it("partial: a gap is allowed, a changed event is not", () => {
    const verifier = new ChainVerifier({ partial: true });
    const subset = chain(6).filter((_, i) => i !== 1 && i !== 4);
    expect(subset.every((e) => verifier.add(e))).toBe(true);
    expect(verifier.verdict()).toMatchObject({ ok: true, count: 4 });
  });
});
