import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { afterAll, describe, expect, it } from "vitest";
import { auditExportStream } from "../lib/audit/export";
import type { AuditEvent } from "../lib/db/audit";
import { auditEventHash, GENESIS_HASH } from "../lib/db/audit-hash";

const dir = path.join(".test-data", `audit-verify-${crypto.randomBytes(4).toString("hex")}`);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

// A tenant chain of n events in chunks of 1,000, built the way recordAuditEvents builds it.
async function* chain(n: number): AsyncGenerator<AuditEvent[]> {
  let prevHash = GENESIS_HASH;
  for (let start = 1; start <= n; start += 1_000) {
    const chunk: AuditEvent[] = [];
    for (let i = start; i < Math.min(start + 1_000, n + 1); i++) {
      const fields = {
        prevHash,
        id: String(i),
        at: new Date(Date.UTC(2026, 10, 27, 5, 0, 0, i)),
        tenantId: "t",
        runId: null,
        actorUpn: "a@x",
        action: `a.${i}`,
        target: `/subscriptions/s/resourceGroups/rg-${i}`,
        outcome: "success" as const,
        detail: { i, kind: "create" },
      };
      const hash = auditEventHash(fields);
      chunk.push({ ...fields, actorUserId: null, hash });
      prevHash = hash;
    }
    yield chunk;
  }
}

async function exportFile(name: string, n = 4, edit: (text: string) => string = (t) => t): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  const stream = auditExportStream({ format: "jsonl", scope: "tenant", tenantId: "t", runId: null, chunks: chain(n) });
  if (n > 1_000) await pipeline(Readable.fromWeb(stream as WebReadableStream<Uint8Array>), fs.createWriteStream(file));
  else fs.writeFileSync(file, edit(await new Response(stream).text()));
  return file;
}

const verify = (file: string, env: Record<string, string> = {}) =>
  spawnSync(path.join("node_modules", ".bin", "tsx"), ["scripts/audit-verify.ts", file], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });

describe("npm run audit:verify", () => {
  it("says the chain is intact and exits 0; names the first broken event and exits 1", async () => {
    const ok = verify(await exportFile("ok.jsonl"));
    expect(ok.stdout).toContain("4 events, chain intact");
    expect(ok.status).toBe(0);

    const tampered = verify(await exportFile("tampered.jsonl", 4, (t) => t.replace('"action":"a.2"', '"action":"a.9"')));
    expect(tampered.stderr).toContain("BROKEN at event #2 (id 2)");
    expect(tampered.status).toBe(1);

    const removed = verify(
      await exportFile("removed.jsonl", 4, (t) =>
        t
          .split("\n")
          .filter((l) => !l.includes('"a.3"'))
          .join("\n"),
      ),
    );
    expect(removed.stderr).toMatch(/BROKEN/);
    expect(removed.status).toBe(1);
  }, 60_000);

  it("calls a file cut off before its end line incomplete and exits 1", async () => {
    const cut = verify(await exportFile("cut.jsonl", 4, (t) => t.split("\n").slice(0, 4).join("\n")));
    expect(cut.stderr).toContain("INCOMPLETE: no end line after 3 events");
    expect(cut.status).toBe(1);
    const missing = verify(path.join(dir, "absent.jsonl"));
    expect(missing.stderr).toContain("ENOENT");
    expect(missing.status).toBe(2);
  }, 60_000);

  it("reads the file line by line: 100,000 events (37 MB) verify in a 64 MB heap", async () => {
    const file = await exportFile("large.jsonl", 100_000);
    expect(fs.statSync(file).size).toBeGreaterThan(30_000_000);
    const big = verify(file, { NODE_OPTIONS: "--max-old-space-size=64" });
    expect(big.stderr).toBe("");
    expect(big.stdout).toContain("100000 events, chain intact");
    expect(big.status).toBe(0);
  }, 60_000);
});
