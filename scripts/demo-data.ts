// What `npm run demo` and `npm run demo:cli` share: the demo's ports, secrets (.data/, never committed) and scenario.
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { scenarioSchema, type Scenario } from "../simulator/src/contract";

export const SIM_PORT = 8443;
export const SIMULATOR_URL = `https://127.0.0.1:${SIM_PORT}`;
/** The simulator's CA (made by the demo on first start); az and the portal trust it. */
export const SIMULATOR_CA_DIR = path.join(".data", "simulator", "ca");
const BASE_SCENARIO = path.join("simulator", "scenarios", "default.json");
/** The scenario the demo's simulator serves: the default one and the demo's script runner. */
export const DEMO_SCENARIO = path.join(".data", "demo-scenario.json");

/**
 * The service principal `npm run demo:cli` signs az in as to run an exported script: Owner of every subscription (custom
 * roles, role assignments, storage, diagnostic settings) and the Graph application permissions of the script's app section.
 */
export const SCRIPT_RUNNER = {
  appId: "6a1f0c3e-9b2d-4e7a-8c5f-2d4e6a8b0c1d",
  objectId: "7b2a1d4f-0c3e-4f8b-9d6a-3e5f7b9c1d2e",
  applicationObjectId: "8c3b2e5a-1d4f-4a9c-8e7b-4f6a8c0d2e3f",
  displayName: "Onboarding script runner (demo)",
  graphAppRoles: ["Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"],
} as const;

export interface DemoSecrets {
  encryptionKey: string;
  clientSecret: string;
  workbenchApiKey: string;
  scriptRunnerSecret: string;
}

/** Demo-only secrets, generated once into .data/ (a secret added later is generated then). */
export function demoSecrets(): DemoSecrets {
  const file = path.join(".data", "demo-secrets.json");
  const stored = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Partial<DemoSecrets>) : {};
  const secrets: DemoSecrets = {
    encryptionKey: stored.encryptionKey ?? randomBytes(32).toString("base64"),
    clientSecret: stored.clientSecret ?? randomBytes(24).toString("base64url"),
    workbenchApiKey: stored.workbenchApiKey ?? randomBytes(24).toString("base64url"),
    scriptRunnerSecret: stored.scriptRunnerSecret ?? randomBytes(24).toString("base64url"),
  };
  if (JSON.stringify(stored) !== JSON.stringify(secrets)) {
    fs.mkdirSync(".data", { recursive: true });
    fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return secrets;
}

/** The default scenario with the script runner, written to DEMO_SCENARIO for the simulator. */
export function writeDemoScenario(secrets: DemoSecrets): Scenario {
  const base = scenarioSchema.parse(JSON.parse(fs.readFileSync(BASE_SCENARIO, "utf8")));
  const owner = Object.fromEntries(base.subscriptions.map((s) => [s.id, ["Owner"]]));
  const scenario = scenarioSchema.parse({
    ...base,
    servicePrincipals: [
      ...base.servicePrincipals,
      { ...SCRIPT_RUNNER, graphAppRoles: [...SCRIPT_RUNNER.graphAppRoles], secret: secrets.scriptRunnerSecret, subscriptionRoles: owner },
    ],
  });
  fs.mkdirSync(path.dirname(DEMO_SCENARIO), { recursive: true });
  fs.writeFileSync(DEMO_SCENARIO, JSON.stringify(scenario, null, 2), { mode: 0o600 });
  return scenario;
}
