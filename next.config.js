// @ts-check

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Tests build into their own folder so they never disturb a running demo.
  distDir: process.env.NEXT_DIST_DIR || ".next",
  // PGlite ships WASM and the Azure SDKs are Node-only: keep them out of the server bundle.
  // `forbidden()`: a run of another tenant answers 403 with app/forbidden.tsx.
  experimental: { authInterrupts: true },
  // Static assets bypass proxy.ts (which sets these plus CSP and HSTS on every page): same basics for them.
  headers: async () => [
    {
      source: "/:path*",
      headers: [
        { key: "X-Content-Type-Options", value: "nosniff" },
        { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
        { key: "X-Frame-Options", value: "DENY" },
      ],
    },
  ],
  // pino and prom-client keep process-wide state and load optional modules at run time: Node loads them, not the bundler.
  serverExternalPackages: [
    "@electric-sql/pglite",
    "pglite-prisma-adapter",
    "@prisma/schema-engine-wasm",
    "@azure/msal-node",
    "pino",
    "pino-pretty",
    "prom-client",
  ],
};

module.exports = nextConfig;
