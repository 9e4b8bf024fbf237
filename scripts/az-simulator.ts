// The Azure CLI (az) pointed at a simulator: a private config dir, a registered cloud, a service-principal sign-in.
// Used by the CLI tests and by `npm run demo:cli`.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { startEntraHostProxy, type EntraHostProxy } from "../simulator/src/entra-host";
import { findAz } from "./ensure-az";

export interface AzRun {
  args: string[];
  ms: number;
}

export interface AzSession {
  /** Runs one az command; its JSON output parsed. Throws with az's stderr on a non-zero exit. */
  json(args: string[]): Promise<unknown>;
  /** Every command run so far, with how long it took. */
  runs: AzRun[];
  proxy: EntraHostProxy;
  /** The environment az runs with (config dir, CA bundle, proxy), for scripts that call az themselves. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export interface ServicePrincipalLogin {
  appId: string;
  secret: string;
  tenantId: string;
}

function azPath(): string {
  const az = findAz();
  if (!az) throw new Error("The Azure CLI is missing: `npm test` installs it as root, or run `sudo apt-get install -y azure-cli`.");
  return az;
}

/** A simulator az can reach: its URL and the CA its certificate is signed with. */
export interface SimulatorAddress {
  url: string;
  caPath: string;
}

/**
 * Registers the simulator as cloud "Simulator", selects it and signs in as the service principal, with az's config in a
 * new folder under `parent` (removed by close()).
 */
export async function azSignedIn(sim: SimulatorAddress, login: ServicePrincipalLogin, parent = ".test-data"): Promise<AzSession> {
  const az = azPath();
  const dir = path.resolve(parent, `az-${crypto.randomBytes(4).toString("hex")}`);
  fs.mkdirSync(dir, { recursive: true });
  const proxy = await startEntraHostProxy(sim, path.join(dir, "proxy"));
  const bundle = path.join(dir, "ca-bundle.pem");
  fs.writeFileSync(bundle, fs.readFileSync(sim.caPath, "utf8") + fs.readFileSync(proxy.caPath, "utf8"));
  const env: NodeJS.ProcessEnv = {
    // Only what az needs, not this test process's environment (NodeJS.ProcessEnv names NODE_ENV as required).
    ...({} as NodeJS.ProcessEnv),
    PATH: process.env.PATH,
    HOME: dir,
    AZURE_CONFIG_DIR: path.join(dir, "config"),
    REQUESTS_CA_BUNDLE: bundle,
    HTTPS_PROXY: proxy.url,
    NO_PROXY: "127.0.0.1,localhost",
    AZURE_CORE_COLLECT_TELEMETRY: "false",
    AZURE_CORE_NO_COLOR: "true",
    AZURE_CORE_ONLY_SHOW_ERRORS: "true",
  };
  const runs: AzRun[] = [];
  const exec = (args: string[]) =>
    new Promise<string>((resolve, reject) => {
      const start = Date.now();
      const child = spawn(az, args, { env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => (err += c.toString()));
      child.on("error", reject);
      child.on("exit", (code) => {
        // The sign-in secret never reaches a message or the record of runs.
        const shown = args.map((a) => (a === login.secret ? "***" : a));
        runs.push({ args: shown, ms: Date.now() - start });
        if (code === 0) resolve(out);
        else reject(new Error(`az ${shown.join(" ")} exited with ${code}:\n${err.slice(-4000)}`));
      });
    });
  const cloud = {
    endpoints: {
      resourceManager: `${sim.url}/`,
      activeDirectory: sim.url,
      activeDirectoryResourceId: "https://management.core.windows.net/",
      activeDirectoryGraphResourceId: `${sim.url}/`,
      microsoftGraphResourceId: `${sim.url}/`,
    },
    suffixes: { storageEndpoint: "core.windows.net", keyvaultDns: ".vault.azure.net" },
  };
  const cloudFile = path.join(dir, "cloud.json");
  fs.writeFileSync(cloudFile, JSON.stringify(cloud));
  await exec(["cloud", "register", "--name", "Simulator", "--cloud-config", `@${cloudFile}`]);
  await exec(["cloud", "set", "--name", "Simulator"]);
  await exec(["login", "--service-principal", "-u", login.appId, "-p", login.secret, "--tenant", login.tenantId, "-o", "none"]);
  return {
    runs,
    proxy,
    env,
    async json(args) {
      return JSON.parse(await exec([...args, "-o", "json"])) as unknown;
    },
    async close() {
      await proxy.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
