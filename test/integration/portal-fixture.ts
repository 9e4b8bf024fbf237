// Shared setup for the integration tests that drive the portal's engine end to end: one simulator (Workbench included)
// and one PGlite database per test file, and delegated tokens of any simulated user.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { TokenProvider } from "../../lib/auth/tokens";
import { closeDb, configureDb, migrate } from "../../lib/db";
import type { SessionWithUser } from "../../lib/db/sessions";
import type { RunningSimulator, SimulatorOptions } from "../../simulator/src/index";
import { simToken, TEST_WORKBENCH_KEY } from "../../simulator/src/testing";
import { newSession } from "../support/engine";
import { testDbOptions } from "../support/pglite-template";
import { setLatency, startSimForPortal, TENANT } from "./azure/support";

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
