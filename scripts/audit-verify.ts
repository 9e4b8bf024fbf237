// Verifies an audit export: `npm run audit:verify -- export.jsonl [--partial]`. Exits 0 when intact, 1 when broken.
import fs from "node:fs";
import { verifyChain } from "../lib/audit/chain";
import { parseJsonLines } from "../lib/audit/export";

function main(args: string[]): number {
  const file = args.find((a) => !a.startsWith("--"));
  if (!file) {
    console.error("usage: npm run audit:verify -- <export.jsonl> [--partial]");
    return 2;
  }
  const { header, events } = parseJsonLines(fs.readFileSync(file, "utf8"));
  // A run export is a subset of the tenant's chain: each event's hash is checked, gaps between them are allowed.
  const partial = args.includes("--partial") || header?.scope === "run";
  if (header && header.count !== events.length) {
    console.error(`BROKEN: the export header says ${header.count} events, the file has ${events.length}`);
    return 1;
  }
  const verdict = verifyChain(events, { partial });
  if (!verdict.ok) {
    console.error(`BROKEN at event #${verdict.brokenAt + 1} (id ${verdict.id}): ${verdict.reason}`);
    return 1;
  }
  if (header && (header.firstHash !== verdict.firstHash || header.lastHash !== verdict.lastHash)) {
    console.error("BROKEN: first or last hash differs from the export header (events added or removed at an end)");
    return 1;
  }
  console.log(`${verdict.count} events, chain intact${partial ? " (run subset: each event's hash checked)" : ""}`);
  console.log(`first hash ${verdict.firstHash ?? "-"}\nlast hash  ${verdict.lastHash ?? "-"}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
