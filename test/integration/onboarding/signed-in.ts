// Setup shared by the onboarding integration tests: a simulator on a scenario, a fresh database, the Owner signed in.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { closeDb, configureDb, migrate, type SessionWithUser } from "../../../lib/db";
import type { RunningSimulator, SimulatorOptions } from "../../../simulator/src/index";
import { testDbOptions } from "../../support/pglite-template";
import { OWNER, startSimForPortal } from "../azure/support";
import { signInThroughSimulator } from "../sign-in";

export interface SignedInSimulator {
  sim: RunningSimulator;
  owner: SessionWithUser;
  close(): Promise<void>;
}

/** Start the simulator with `overrides`, migrate a database of its own and sign the Owner in through the portal's sign-in. */
export async function signedInSimulator(name: string, overrides: Partial<SimulatorOptions>): Promise<SignedInSimulator> {
  const dataDir = path.join(".test-data", `${name}-${crypto.randomBytes(4).toString("hex")}`);
  const sim = await startSimForPortal(overrides);
  process.env.PORTAL_URL = "http://localhost:3000";
  configureDb(testDbOptions(dataDir));
  await migrate();
  const owner = (await signInThroughSimulator(sim, OWNER, "/onboarding/new")).session;
  return {
    sim,
    owner,
    async close() {
      await closeDb();
      await sim.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
