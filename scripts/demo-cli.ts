// `npm run demo:cli -- FILE.sh`: runs a plan's Azure CLI export against the running demo's simulator, with az signed in
// as the demo's script runner in a throw-away config folder (your own az login is untouched).
import { spawn } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import path from "node:path";
import { azSignedIn } from "./az-simulator";
import { DEMO_SCENARIO, demoSecrets, SCRIPT_RUNNER, SIMULATOR_CA_DIR, SIMULATOR_URL } from "./demo-data";
import { scenarioSchema } from "../simulator/src/contract";

// npm runs scripts from the package root; INIT_CWD is where `npm run` was typed, so a relative FILE means what it says.
const [arg] = process.argv.slice(2);
const file = arg ? path.resolve(process.env.INIT_CWD ?? process.cwd(), arg) : undefined;
process.chdir(path.resolve(__dirname, ".."));

/** Resolves true when the demo's simulator answers over HTTPS with its own CA; false when it or its CA can't be reached. */
function simulatorUp(caPath: string): Promise<boolean> {
  let ca: Buffer;
  try {
    ca = fs.readFileSync(caPath);
  } catch {
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const req = https.get(`${SIMULATOR_URL}/_sim/health`, { ca, timeout: 3_000 }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}

async function main(): Promise<number> {
  if (!file || !fs.existsSync(file)) {
    console.error("Usage: npm run demo:cli -- aks-onboarding-<run>.sh   (the Azure CLI export of a run, from its plan page)");
    return 2;
  }
  const caPath = path.join(SIMULATOR_CA_DIR, "ca.pem");
  if (!fs.existsSync(DEMO_SCENARIO) || !(await simulatorUp(caPath))) {
    console.error(`The demo's simulator is not running at ${SIMULATOR_URL}: start it with \`npm run demo\` in another terminal.`);
    return 1;
  }
  const scenario = scenarioSchema.parse(JSON.parse(fs.readFileSync(DEMO_SCENARIO, "utf8")));
  const az = await azSignedIn(
    { url: SIMULATOR_URL, caPath },
    { appId: SCRIPT_RUNNER.appId, secret: demoSecrets().scriptRunnerSecret, tenantId: scenario.tenant.id },
    ".data",
  );
  try {
    console.log(`az is signed in to the simulator as ${SCRIPT_RUNNER.displayName}; running ${file}…`);
    return await new Promise<number>((resolve, reject) => {
      const child = spawn("bash", [file], { env: az.env, stdio: "inherit" });
      child.on("error", reject);
      child.on("exit", (code) => resolve(code ?? 1));
    });
  } finally {
    await az.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
