// `npm test`: typecheck, lint and the format check side by side, the e2e build, then unit + integration tests (vitest) side by side with
// e2e in Debian Chromium. Everything runs on its own ports and folders (.test-data/, .next-test/), never the demo's.
// Why side by side: e2e drives one browser against one portal and leaves ~80 % of the 2 CI cores idle; vitest fills them,
// at a lower CPU priority (nice), so the e2e servers and browser keep the pace they have alone.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ensureCa } from "../simulator/src/tls";
import { ensureAz } from "./ensure-az";
import { bin, ensureChromium, run, timed } from "./run";

const args = new Set(process.argv.slice(2));
const e2eOnly = args.has("--e2e-only");
const root = path.resolve(__dirname, "..");
process.chdir(root);

const chromium = ensureChromium();
// The CLI read-back tests (test/integration/cli) run Debian's az against the simulator.
const az = ensureAz();
const ca = ensureCa(path.join(".test-data", "ca"));
const env = {
  ...process.env,
  NODE_EXTRA_CA_CERTS: ca.caPath,
  NEXT_TELEMETRY_DISABLED: "1",
  CHROMIUM_PATH: chromium,
  AZ_PATH: az,
  // Fixed for the whole e2e run, so Playwright's runner and its workers agree (e2e/env.ts).
  E2E_CLIENT_SECRET: randomBytes(24).toString("base64url"),
  E2E_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  E2E_WORKBENCH_API_KEY: randomBytes(24).toString("base64url"),
};
const logs = path.join(".test-data", "logs");
fs.mkdirSync(logs, { recursive: true });

interface Phase {
  label: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/** Runs phases at once, each into its own log; prints each log whole once all are done, then fails if any failed. */
async function together(phases: Phase[]): Promise<void> {
  const results = await Promise.all(
    phases.map(
      (p) =>
        new Promise<{ phase: Phase; code: number | null; seconds: number; log: string }>((resolve) => {
          const log = path.join(logs, `${p.label.split(" ")[0]}.log`);
          const out = fs.openSync(log, "w");
          const start = Date.now();
          console.log(`▶  ${p.label} (output: ${log})`);
          const child = spawn(p.cmd, p.args, { env: p.env ?? env, stdio: ["ignore", out, out] });
          child.on("exit", (code) => {
            fs.closeSync(out);
            resolve({ phase: p, code, seconds: (Date.now() - start) / 1000, log });
          });
        }),
    ),
  );
  for (const r of results) {
    console.log(`\n──── ${r.phase.label} ────`);
    process.stdout.write(fs.readFileSync(r.log));
  }
  for (const r of results) console.log(`⏱  ${r.phase.label}: ${r.seconds.toFixed(1)} s${r.code === 0 ? "" : ` — FAILED (exit ${r.code})`}`);
  const failed = results.filter((r) => r.code !== 0);
  if (failed.length) throw new Error(`${failed.map((r) => r.phase.label).join(", ")} failed`);
}

async function main(): Promise<void> {
  if (!e2eOnly) {
    await together([
      { label: "typecheck (tsc)", cmd: bin("tsc"), args: ["--noEmit"] },
      { label: "lint (eslint)", cmd: bin("eslint"), args: ["."] },
      { label: "format (prettier --check)", cmd: bin("prettier"), args: ["--check", "--log-level", "warn", "."] },
    ]);
  }
  fs.rmSync(path.join(".test-data", "e2e"), { recursive: true, force: true });
  // The e2e simulator's CA exists before any e2e process starts, so every one of them can trust it.
  ensureCa(path.join(".test-data", "e2e", "simulator", "ca"));
  timed("build (next build)", () => run(bin("next"), ["build"], { ...env, NEXT_DIST_DIR: ".next-test" }));
  const e2e: Phase = { label: "e2e (playwright, chromium)", cmd: bin("playwright"), args: ["test"] };
  const vitest: Phase = { label: "vitest (unit + integration)", cmd: "nice", args: ["-n", "10", bin("vitest"), "run"] };
  await together(e2eOnly ? [e2e] : [e2e, vitest]);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
