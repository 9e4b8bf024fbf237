// Unit and integration tests (Node): `npm run test:unit`. Browser end-to-end tests live under e2e/ (Playwright).
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    // forks (not threads): NODE_EXTRA_CA_CERTS set in globalSetup is only honoured by freshly started processes.
    pool: "forks",
    // Most files wait on simulators, Azurite and PostgreSQL rather than compute: 4 at a time on 2 cores (the default
    // here would be 1) cuts the suite's wall time without starving the CPU-bound ones.
    maxWorkers: 4,
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**", "e2e/**", ".next/**", ".next-test/**", ".data/**", ".test-data/**"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 30_000,
    // A fresh PGlite folder is made by a child initdb (~900 MB of WebAssembly): with 4 files doing it at once on 2 cores
    // a setup hook can take over a minute.
    hookTimeout: 120_000,
  },
  resolve: {
    alias: {
      "@": new URL(".", import.meta.url).pathname.replace(/\/$/, ""),
      // lib/ marks its modules "server-only", which throws outside Next's react-server condition: tests load them in Node.
      "server-only": new URL("node_modules/server-only/empty.js", import.meta.url).pathname,
    },
  },
});
