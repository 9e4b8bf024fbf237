// Test helpers: start an isolated simulator (random ports, own data dir, shared test CA) and call it.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { startSimulator, type RunningSimulator, type SimulatorOptions } from "./index";

export const TEST_CLIENT = { clientId: "3f1c2b5e-8d4a-4e6f-9a7b-1c2d3e4f5a6b", clientSecret: "test-portal-secret" } as const;
export const TEST_WORKBENCH_KEY = "test-workbench-key";
export const DEFAULT_SCENARIO = path.join("simulator", "scenarios", "default.json");

/**
 * Start a simulator for one test file: port 0, data dir under .test-data/, CA in .test-data/ca (trusted by
 * test/global-setup.ts), no Azurite unless `blob: true`.
 */
export async function startTestSimulator(overrides: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  const dataDir = path.join(".test-data", `sim-${crypto.randomUUID()}`);
  const sim = await startSimulator({
    port: 0,
    blobPort: 0,
    dataDir,
    caDir: path.join(".test-data", "ca"),
    scenario: DEFAULT_SCENARIO,
    clients: [TEST_CLIENT],
    workbenchApiKey: TEST_WORKBENCH_KEY,
    blob: false,
    blobPersistence: "memory",
    // Short enough for tests that use a new secret right away (acquireFirstToken retries), long enough to be exercised.
    secretPropagationMs: 2_000,
    // Quiet, except for failures (handler exceptions, kube-audit write errors) that explain a red test.
    log: (line) => {
      if (/fail|error|exited/i.test(line)) console.error(line);
    },
    ...overrides,
  });
  // The data dir is throw-away unless the test chose its own.
  const ownDir = overrides.dataDir === undefined;
  return {
    ...sim,
    async close() {
      await sim.close();
      if (ownDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A parsed JSON body, loosely typed so tests can assert on it directly. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions navigate arbitrary JSON
export type JsonBody = any;

/** JSON request to the simulator; returns status, parsed body and headers. */
export async function simJson(
  sim: { url: string },
  method: string,
  pathAndQuery: string,
  opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: JsonBody; headers: Headers }> {
  const res = await fetch(`${sim.url}${pathAndQuery}`, {
    method,
    headers: {
      ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.headers ?? {}),
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
    redirect: "manual",
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

/** An access token from the simulator-only POST /_sim/token (minted like the real sign-in flow would). */
export async function simToken(
  sim: { url: string },
  args: { upn?: string; appId?: string; resource: "arm" | "graph" | "loganalytics" | "storage"; scopes?: string[]; expiresIn?: number },
): Promise<string> {
  const r = await simJson(sim, "POST", "/_sim/token", { body: args });
  if (r.status !== 200) throw new Error(`/_sim/token failed: ${r.status} ${JSON.stringify(r.body)}`);
  return (r.body as { access_token: string }).access_token;
}
