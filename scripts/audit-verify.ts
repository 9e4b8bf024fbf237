// Verifies an audit export: `npm run audit:verify -- export.jsonl [--partial]`. Exits 0 when intact, 1 when broken or
// incomplete. Reads the file line by line, so memory stays flat whatever its size.
import "./server-only-shim";
import fs from "node:fs";
import readline from "node:readline";
import { checkExportLines } from "../lib/audit/export";

async function main(args: string[]): Promise<number> {
  const file = args.find((a) => !a.startsWith("--"));
  if (!file) {
    console.error("usage: npm run audit:verify -- <export.jsonl> [--partial]");
    return 2;
  }
  const lines = readline.createInterface({ input: fs.createReadStream(file, { encoding: "utf8" }), crlfDelay: Infinity });
  const result = await checkExportLines(lines, { partial: args.includes("--partial") });
  lines.close();
  if (!result.ok) {
    console.error(result.message);
    return 1;
  }
  console.log(`${result.count} events, chain intact${result.partial ? " (run subset: each event's hash checked)" : ""}`);
  console.log(`first hash ${result.firstHash ?? "-"}\nlast hash  ${result.lastHash ?? "-"}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 2;
  },
);
