// The e2e run's own configuration: ports, folders, simulator and portal commands.
import { randomBytes } from "node:crypto";
import path from "node:path";

// E2E_PORT_OFFSET shifts every port, so two checkouts can run their e2e suites side by side.
const PORT_OFFSET = Number(process.env.E2E_PORT_OFFSET ?? 0);
const SIM_PORT = 9443 + PORT_OFFSET;
const BLOB_PORT = 11000 + PORT_OFFSET;
const PORTAL_PORT = 3100 + PORT_OFFSET;

/** A spec's own portal port (3101, 3102, … before the offset). */
export function e2ePort(port: number): number {
  return port + PORT_OFFSET;
}

/** Values shared by playwright.config.ts and the specs; secrets come from scripts/test.ts or are made here. */
export function e2eEnv() {
  const root = path.resolve(__dirname, "..");
  const data = path.join(root, ".test-data", "e2e");
  const simulatorUrl = `https://127.0.0.1:${SIM_PORT}`;
  const portalUrl = `http://localhost:${PORTAL_PORT}`;
  process.env.E2E_CLIENT_SECRET ??= randomBytes(24).toString("base64url");
  process.env.E2E_ENCRYPTION_KEY ??= randomBytes(32).toString("base64");
  process.env.E2E_WORKBENCH_API_KEY ??= randomBytes(24).toString("base64url");
  const clientId = "5f0e4c52-7b4a-4f0e-9a53-3c2b1f1e0a11";
  // The simulator creates its CA in its data folder before it reports ready; the portal starts after it.
  const caPath = path.join(data, "simulator", "ca", "ca.pem");
  const processEnv: Record<string, string> = {
    NODE_EXTRA_CA_CERTS: caPath,
    NEXT_TELEMETRY_DISABLED: "1",
    NEXT_DIST_DIR: ".next-test",
    PORTAL_URL: portalUrl,
    DATA_DIR: path.join(data, "portal"),
    ENCRYPTION_KEY: process.env.E2E_ENCRYPTION_KEY,
    ENTRA_CLIENT_ID: clientId,
    ENTRA_CLIENT_SECRET: process.env.E2E_CLIENT_SECRET,
    ENTRA_AUTHORITY: `${simulatorUrl}/organizations`,
    ARM_ENDPOINT: simulatorUrl,
    GRAPH_ENDPOINT: simulatorUrl,
    // The simulator serves the Log Analytics query API too; its tokens keep the public audience.
    LOG_ANALYTICS_ENDPOINT: simulatorUrl,
    LOG_ANALYTICS_AUDIENCE: "https://api.loganalytics.io",
    WORKBENCH_URL: `${simulatorUrl}/workbench`,
    WORKBENCH_API_KEY: process.env.E2E_WORKBENCH_API_KEY,
    VENDOR_EGRESS_IPS: "203.0.113.10,198.51.100.20",
    // The simulator's extra tenant (default.json): its engineer gets the vendor view.
    VENDOR_TENANT_ID: "e7e1d5a0-3c4b-4f7e-9d2a-5b6c7d8e9f01",
    // A crashed step becomes resumable after 10 s instead of a minute.
    STEP_LEASE_TTL_SECONDS: "10",
  };
  return {
    simulatorUrl,
    portalUrl,
    chromium: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    processEnv,
    simulatorCommand: [
      `${path.join(root, "node_modules", ".bin", "tsx")} simulator/main.ts`,
      `--port ${SIM_PORT} --blob-port ${BLOB_PORT}`,
      `--data-dir ${path.join(data, "simulator")}`,
      "--scenario simulator/scenarios/default.json",
      // "=": a random base64url value may start with "-", which parseArgs would take for an option.
      `--client-id ${clientId} --client-secret=${processEnv.ENTRA_CLIENT_SECRET}`,
      `--workbench-api-key=${processEnv.WORKBENCH_API_KEY}`,
      // Verification signs in with a new secret: 3 s of Entra-like refusal exercises the retry without slowing specs.
      "--secret-propagation-seconds 3",
    ].join(" "),
    portalCommand: `${path.join(root, "node_modules", ".bin", "next")} start -p ${PORTAL_PORT}`,
    nextBin: path.join(root, "node_modules", ".bin", "next"),
    root,
    dataDir: data,
  };
}
