// `npm test`: typecheck, lint, unit + integration tests (vitest), then e2e in Debian Chromium.
// Everything runs on its own ports and folders (.test-data/, .next-test/), never the demo's.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ensureCa } from "../simulator/src/tls";
import { ensureChromium, run, timed } from "./run";

const args = new Set(process.argv.slice(2));
const e2eOnly = args.has("--e2e-only");
const root = path.resolve(__dirname, "..");
process.chdir(root);

const chromium = ensureChromium();
const ca = ensureCa(path.join(".test-data", "ca"));
const env = {
  ...process.env,
  NODE_EXTRA_CA_CERTS: ca.caPath,
  NEXT_TELEMETRY_DISABLED: "1",
  CHROMIUM_PATH: chromium,
  // Fixed for the whole e2e run, so Playwright's runner and its workers agree (e2e/env.ts).
  E2E_CLIENT_SECRET: randomBytes(24).toString("base64url"),
  E2E_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  E2E_WORKBENCH_API_KEY: randomBytes(24).toString("base64url"),
};

if (!e2eOnly) {
  timed("typecheck", () => run("npx", ["tsc", "--noEmit"], env));
  timed("lint", () => run("npx", ["eslint", "."], env));
  timed("unit + integration (vitest)", () => run("npx", ["vitest", "run"], env));
}

fs.rmSync(path.join(".test-data", "e2e"), { recursive: true, force: true });
// The e2e simulator's CA exists before any e2e process starts, so every one of them can trust it.
ensureCa(path.join(".test-data", "e2e", "simulator", "ca"));
timed("build (next build)", () => run("npx", ["next", "build"], { ...env, NEXT_DIST_DIR: ".next-test" }));
timed("e2e (playwright, chromium)", () => run("npx", ["playwright", "test"], env));
