// `npm run demo`: the Azure simulator (with Azurite) and the portal on http://localhost:3000, no Azure needed.
// `npm run demo -- --dev` serves the portal with `next dev` instead of a production build.
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { ensureCa } from "../simulator/src/tls";
import { DEMO_SCENARIO, demoSecrets, SCRIPT_RUNNER, SIM_PORT, SIMULATOR_CA_DIR, SIMULATOR_URL, writeDemoScenario } from "./demo-data";
import { bin, run, startService } from "./run";

const root = path.resolve(__dirname, "..");
process.chdir(root);
const dev = process.argv.includes("--dev");
const BLOB_PORT = 10000;
const PORTAL_PORT = 3000;
const DEMO_CLIENT_ID = "0b3f9a6e-2d4c-4e8a-9f1b-7c5d3e2a1f00";

async function main() {
  const secrets = demoSecrets();
  const scenario = writeDemoScenario(secrets);
  const vendorTenant = scenario.extraTenants[0];
  const ca = ensureCa(SIMULATOR_CA_DIR);
  const simulatorUrl = SIMULATOR_URL;
  const portalUrl = `http://localhost:${PORTAL_PORT}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_EXTRA_CA_CERTS: ca.caPath,
    NEXT_TELEMETRY_DISABLED: "1",
    PORTAL_URL: portalUrl,
    DATA_DIR: ".data",
    ENCRYPTION_KEY: secrets.encryptionKey,
    ENTRA_CLIENT_ID: DEMO_CLIENT_ID,
    ENTRA_CLIENT_SECRET: secrets.clientSecret,
    ENTRA_AUTHORITY: `${simulatorUrl}/organizations`,
    ARM_ENDPOINT: simulatorUrl,
    GRAPH_ENDPOINT: simulatorUrl,
    // The simulator serves the Log Analytics query API too; its tokens keep the public audience.
    LOG_ANALYTICS_ENDPOINT: simulatorUrl,
    LOG_ANALYTICS_AUDIENCE: "https://api.loganalytics.io",
    WORKBENCH_URL: `${simulatorUrl}/workbench`,
    WORKBENCH_API_KEY: secrets.workbenchApiKey,
    // Documentation addresses (RFC 5737) standing in for the vendor's egress IPs, so the firewall option can be tried.
    VENDOR_EGRESS_IPS: "203.0.113.10,198.51.100.20",
    // The scenario's extra tenant plays the vendor's own tenant: its engineer gets the read-only vendor view (/vendor).
    ...(vendorTenant ? { VENDOR_TENANT_ID: vendorTenant.tenant.id } : {}),
  };

  const children: ChildProcess[] = [];
  // The portal drains on SIGTERM (steps under way finish their writes or are handed back): wait for it, within a bound.
  const stop = () => {
    const exited = children.filter((c) => c.exitCode === null).map((c) => new Promise((r) => c.once("exit", r)));
    for (const c of children) c.kill("SIGTERM");
    void Promise.race([Promise.all(exited), new Promise((r) => setTimeout(r, 30_000))]).then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);

  children.push(
    await startService(
      "simulator",
      bin("tsx"),
      [
        "simulator/main.ts",
        "--port",
        String(SIM_PORT),
        "--blob-port",
        String(BLOB_PORT),
        "--data-dir",
        path.join(".data", "simulator"),
        "--scenario",
        DEMO_SCENARIO,
        "--client-id",
        DEMO_CLIENT_ID,
        "--client-secret",
        secrets.clientSecret,
        "--workbench-api-key",
        secrets.workbenchApiKey,
      ],
      env,
      /simulator ready/,
    ),
  );
  if (!dev) run(bin("next"), ["build"], env);
  children.push(
    await startService("portal", bin("next"), [dev ? "dev" : "start", "-p", String(PORTAL_PORT)], env, /Ready in|started server/i),
  );
  await waitForReady(portalUrl);

  const users = scenario.users.map((u) => {
    const roles = [...new Set(Object.values(u.subscriptionRoles).flat())].join(", ") || "no subscription role";
    const directory = u.directoryRoles.length ? `; ${u.directoryRoles.join(", ")}` : "";
    return `    ${u.upn.padEnd(36)} ${u.displayName} (${roles}${directory})`;
  });
  console.log(
    [
      "",
      `  AKS onboarding portal: ${portalUrl}`,
      `  Azure simulator:       ${simulatorUrl}  (control API: ${simulatorUrl}/_sim/state)`,
      "",
      "  Sign in as one of the demo users (no password; pick one on the simulator's sign-in page):",
      ...users,
      ...(vendorTenant?.users ?? []).map(
        (u) => `    ${u.upn.padEnd(36)} ${u.displayName} (vendor staff: read-only view of every customer's runs at /vendor)`,
      ),
      "",
      `  Run a plan's Azure CLI export against this simulator (az signed in as ${SCRIPT_RUNNER.displayName}):`,
      "    npm run demo:cli -- aks-onboarding-<run>.sh",
      "",
      "  Ctrl+C stops everything.",
      "",
    ].join("\n"),
  );
}

/** Polls the portal's /readyz until it answers 200: database migrated, sign-in authority (the simulator) reachable. */
async function waitForReady(portalUrl: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${portalUrl}/readyz`).catch(() => undefined);
    if (res?.ok) return;
    if (Date.now() > until) {
      throw new Error(`The portal did not become ready within ${timeoutMs / 1000} s${res ? `: ${await res.text()}` : ""}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
