import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toJsonLines } from "../lib/audit/export";
import type { AuditEvent } from "../lib/db/audit";
import { auditEventHash, GENESIS_HASH } from "../lib/db/audit-hash";

const dir = path.join(".test-data", `audit-verify-${crypto.randomBytes(4).toString("hex")}`);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function exportFile(name: string, lines: (text: string) => string = (t) => t): string {
  const events: AuditEvent[] = [];
  let prevHash = GENESIS_HASH;
  for (let i = 1; i <= 4; i++) {
    const fields = { prevHash, id: String(i), at: new Date(Date.UTC(2026, 10, 27, 5, i)), tenantId: "t", runId: null, actorUpn: "a@x", action: `a.${i}`, target: null, outcome: "success" as const, detail: { i } };
    const hash = auditEventHash(fields);
    events.push({ ...fields, actorUserId: null, hash });
    prevHash = hash;
  }
  const header = { auditExport: { scope: "tenant" as const, tenantId: "t", runId: null, count: 4, firstHash: events[0]!.hash, lastHash: prevHash, exportedAt: "", check: "" } };
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines(toJsonLines(events, header)));
  return file;
}

const verify = (file: string) => spawnSync(path.join("node_modules", ".bin", "tsx"), ["scripts/audit-verify.ts", file], { encoding: "utf8" });

describe("npm run audit:verify", () => {
  it("says the chain is intact and exits 0; names the first broken event and exits 1", () => {
    const ok = verify(exportFile("ok.jsonl"));
    expect(ok.stdout).toContain("4 events, chain intact");
    expect(ok.status).toBe(0);

    const tampered = verify(exportFile("tampered.jsonl", (t) => t.replace('"action":"a.2"', '"action":"a.9"')));
    expect(tampered.stderr).toContain("BROKEN at event #2 (id 2)");
    expect(tampered.status).toBe(1);

    const removed = verify(exportFile("removed.jsonl", (t) => t.split("\n").filter((l) => !l.includes('"a.3"')).join("\n")));
    expect(removed.stderr).toMatch(/BROKEN/);
    expect(removed.status).toBe(1);
  }, 60_000);
});
