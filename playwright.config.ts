import { defineConfig } from "@playwright/test";
import { e2eEnv } from "./e2e/env";

// Ports, data folders and secrets of the e2e run: never the demo's (scripts/test.ts prepares them).
const e = e2eEnv();

export default defineConfig({
  testDir: "e2e",
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    baseURL: e.portalUrl,
    ignoreHTTPSErrors: true,
    trace: "retain-on-failure",
    viewport: { width: 1280, height: 720 },
    launchOptions: {
      executablePath: e.chromium,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: [
    {
      command: e.simulatorCommand,
      url: `${e.simulatorUrl}/_sim/health`,
      ignoreHTTPSErrors: true,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      env: e.processEnv,
    },
    {
      command: e.portalCommand,
      // Ready: database migrated and the sign-in authority (the simulator) reachable; 503 until then.
      url: `${e.portalUrl}/readyz`,
      reuseExistingServer: false,
      timeout: 120_000,
      stdout: "pipe",
      env: e.processEnv,
    },
  ],
});
