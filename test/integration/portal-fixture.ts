// Shared setup for the integration tests that drive the portal's engine end to end: one simulator (Workbench included)
// and one PGlite database per test file, and delegated tokens of any simulated user.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { expect } from "vitest";
import type { TokenProvider } from "../../lib/auth/tokens";
import { closeDb, configureDb, confirmRunPlan, createRun, migrate, setRunStatus } from "../../lib/db";
import { runRemainingSteps } from "../../lib/engine/drive-run";
import type { EnginePolicy } from "../../lib/engine/policy";
import { STEP_MODULES } from "../../lib/engine/step-modules";
import { planStoredRun } from "../../lib/onboarding/plan";
import type { RunConfig } from "../../lib/steps/config";
import { STEP_IDS } from "../../lib/steps/registry";
import type { SessionWithUser } from "../../lib/db/sessions";
import type { RunningSimulator, SimulatorOptions } from "../../simulator/src/index";
import { simToken, TEST_WORKBENCH_KEY } from "../../simulator/src/testing";
import { newSession } from "../support/engine";
import { testDbOptions } from "../support/pglite-template";
import { OWNER, setLatency, startSimForPortal, TENANT } from "./azure/support";
import { defaultRunConfig } from "./steps/context";

/** Waits most steps' tests want: a storage account made in 100 ms, providers registered at once, no replication lag. */
export const FAST_LATENCY = { lroMs: { storageAccount: 100, providerRegistration: 0 }, replicationMs: 0 };

export interface PortalFixtureOptions {
  /** Azurite beside the simulator: Verification reads the audit blobs. */
  blob?: boolean;
  scenario?: SimulatorOptions["scenario"];
  /** Set once the simulator is up; none leaves startSimForPortal's. */
  latency?: Parameters<typeof setLatency>[1];
  /** Runs once the simulator is up and the database migrated (e.g. a user and session of the test's own). */
  ready?: (sim: RunningSimulator) => Promise<void> | void;
}

/**
 * Registers this file's beforeAll/afterAll: a simulator, the portal's configuration pointed at it (Workbench too), a
 * fresh migrated PGlite database; `onStarted` receives the simulator. Returns delegated tokens for a simulated user.
 */
export function portalFixture(
  label: string,
  options: PortalFixtureOptions,
  onStarted: (sim: RunningSimulator) => void,
): { tokensOf(upn: string): TokenProvider } {
  let sim: RunningSimulator | undefined;
  const dataDir = path.join(".test-data", `${label}-${crypto.randomBytes(4).toString("hex")}`);
  beforeAll(async () => {
    sim = await startSimForPortal({ ...(options.blob ? { blob: true } : {}), ...(options.scenario ? { scenario: options.scenario } : {}) });
    onStarted(sim);
    process.env.WORKBENCH_URL = `${sim.url}/workbench`;
    process.env.WORKBENCH_API_KEY = TEST_WORKBENCH_KEY;
    if (options.latency) await setLatency(sim, options.latency);
    configureDb(testDbOptions(dataDir));
    await migrate();
    await options.ready?.(sim);
  }, 120_000);
  afterAll(async () => {
    await closeDb();
    await sim?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    tokensOf: (upn) => async (resource) => {
      if (!sim) throw new Error("the simulator is not started yet");
      return { ok: true, token: await simToken(sim, { upn, resource }), expiresOn: new Date(Date.now() + 3_600_000) };
    },
  };
}

/** A signed-in session of `upn` in the simulated tenant, its user row made. */
export function sessionOf(upn: string, displayName: string): Promise<SessionWithUser> {
  return newSession({ tenantId: TENANT, upn, displayName });
}

/**
 * A run of `config` made by OWNER, planned as the plan page plans it, confirmed and running; `onPlanned` sees it between
 * plan and confirmation (e.g. to download an export). Returns the run id.
 */
export async function confirmedRun(
  tokens: TokenProvider,
  options: { config?: RunConfig; onPlanned?: (runId: string) => Promise<void> } = {},
): Promise<string> {
  const config = options.config ?? defaultRunConfig();
  const run = await createRun({ tenantId: TENANT, createdByUserId: null, createdByUpn: OWNER, config, steps: STEP_IDS });
  expect((await planStoredRun(run.id, TENANT, OWNER, config, tokens)).ok).toBe(true);
  await options.onPlanned?.(run.id);
  expect(await confirmRunPlan(run.id, OWNER)).toBe(true);
  expect(await setRunStatus(run.id, "running", { from: ["planned"] })).toBe(true);
  return run.id;
}

/** Drives a running run's remaining steps as OWNER's session would; the engine's outcome. */
export function driveRun(runId: string, tokens: TokenProvider, policy?: Partial<EnginePolicy>) {
  return runRemainingSteps({
    runId,
    tenantId: TENANT,
    actor: { userId: null, upn: OWNER },
    tokens,
    modules: STEP_MODULES,
    ...(policy ? { policy } : {}),
  });
}
