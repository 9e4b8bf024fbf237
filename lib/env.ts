// The portal's configuration: the only module that reads process.env.
import "server-only";
import { z } from "zod";

const httpsUrl = z
  .string()
  .url()
  .refine((v) => v.startsWith("https://"), "must be an https:// URL (MSAL and the Azure SDKs refuse plain http)")
  .transform((v) => v.replace(/\/+$/, ""));

const csv = z
  .string()
  .optional()
  .transform((v) =>
    v
      ? v
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
  );

// Fewer distinct byte values than this (all zeros, one repeated byte, short text) is not a random key.
const MIN_DISTINCT_KEY_BYTES = 16;

// Exactly 32 bytes in canonical base64, with at least MIN_DISTINCT_KEY_BYTES distinct values (32 random bytes have ~30).
function aesKey(schema: z.ZodString) {
  return schema.superRefine((v, ctx) => {
    const bytes = Buffer.from(v, "base64");
    if (bytes.length !== 32 || bytes.toString("base64") !== v) {
      ctx.addIssue({ code: "custom", message: "must be 32 bytes, base64-encoded (openssl rand -base64 32)" });
    } else if (new Set(bytes).size < MIN_DISTINCT_KEY_BYTES) {
      ctx.addIssue({
        code: "custom",
        message: `is not random: fewer than ${MIN_DISTINCT_KEY_BYTES} distinct byte values (openssl rand -base64 32)`,
      });
    }
  });
}

const logLevel = z.enum(["debug", "info", "warn", "error"]).default("info");
const logFormat = z.enum(["json", "pretty"]).optional();

const envSchema = z
  .object({
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    /** Public base URL of the portal; the sign-in redirect URI is `${PORTAL_URL}/auth/callback`. */
    PORTAL_URL: z
      .string()
      .url()
      .default("http://localhost:3000")
      .transform((v) => v.replace(/\/+$/, "")),
    /** Folder for local state: the embedded database, generated keys. */
    DATA_DIR: z.string().min(1).default(".data"),
    /** postgres://… for a real PostgreSQL; unset for the embedded PGlite database in DATA_DIR/pglite. */
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://")
      .optional(),
    /** 32 random bytes, base64: encrypts sessions' token caches and secrets at rest (AES-256-GCM). */
    ENCRYPTION_KEY: aesKey(z.string({ error: "is required: 32 random bytes, base64 (openssl rand -base64 32)" })),
    /** The key ENCRYPTION_KEY replaced: still opens what it sealed, never seals. */
    ENCRYPTION_KEY_PREVIOUS: aesKey(z.string()).optional(),
    SESSION_TTL_HOURS: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 7)
      .default(8),
    /** Sign-in starts per client and minute (also its burst); all clients together get SIGN_IN_PENDING_MAX per 10 minutes. */
    SIGN_IN_RATE_PER_MINUTE: z.coerce.number().int().min(1).max(10_000).default(30),
    /** Pending sign-ins kept at most; a new one past it drops the oldest. */
    SIGN_IN_PENDING_MAX: z.coerce.number().int().min(100).max(1_000_000).default(1000),
    /** Reverse proxies in front of the portal that append to X-Forwarded-For (0: none); rate limits key on the entry they appended. */
    TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),

    /** The portal's own multi-tenant Entra app registration. */
    ENTRA_CLIENT_ID: z.string({ error: "is required: the portal's app registration (application) id" }).uuid(),
    ENTRA_CLIENT_SECRET: z.string({ error: "is required: a client secret of the portal's app registration" }).min(1),
    /** Sign-in authority: https://login.microsoftonline.com/organizations for any work account. */
    ENTRA_AUTHORITY: httpsUrl.default("https://login.microsoftonline.com/organizations"),

    /** Azure Resource Manager endpoint and the resource its tokens are issued for. */
    ARM_ENDPOINT: httpsUrl.default("https://management.azure.com"),
    ARM_AUDIENCE: httpsUrl.default("https://management.azure.com"),
    /** Microsoft Graph endpoint and the resource its tokens are issued for. */
    GRAPH_ENDPOINT: httpsUrl.default("https://graph.microsoft.com"),
    GRAPH_AUDIENCE: httpsUrl.default("https://graph.microsoft.com"),
    /** Log Analytics query API (verification's workspace query); its token audience defaults to the endpoint. */
    LOG_ANALYTICS_ENDPOINT: httpsUrl.default("https://api.loganalytics.io"),
    LOG_ANALYTICS_AUDIENCE: httpsUrl.optional(),
    /** Base of the links shown to admins (Azure Portal). */
    AZURE_PORTAL_URL: httpsUrl.default("https://portal.azure.com"),

    /** Vendor Workbench API; without it the handoff is manual. */
    WORKBENCH_URL: httpsUrl.optional(),
    WORKBENCH_API_KEY: z.string().min(1).optional(),
    /** Vendor egress IPs allowed through the storage firewall when the admin restricts network access. */
    VENDOR_EGRESS_IPS: csv,

    /** The vendor's own Entra tenant: its signed-in staff get the read-only vendor view (/vendor). Unset: no vendor view. */
    VENDOR_TENANT_ID: z.string().uuid().optional(),

    /** How long a step's lease outlives a crashed server before another instance or admin may resume it. */
    STEP_LEASE_TTL_SECONDS: z.coerce.number().int().min(5).max(600).default(60),
    /** Longest wait for one answer of Azure, Graph, Workbench or the sign-in authority; then the call fails as transient. */
    AZURE_REQUEST_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(600).default(30),
    /** Longest wait for a long-running Azure operation (storage account create: ~25 s in public Azure), polling included. */
    AZURE_LRO_BUDGET_SECONDS: z.coerce.number().min(1).max(3600).default(600),
    /** A step with no progress this long (no write, progress report or answer from a service) gives up its lease. */
    STEP_STALL_SECONDS: z.coerce.number().min(1).max(3600).default(300),
    /** On SIGTERM/SIGINT: how long the writes under way may take to finish before their steps are handed back as interrupted. */
    SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(3600).default(20),

    /** Lowest level logged; unset: info (warn under test runners, NODE_ENV=test). */
    LOG_LEVEL: logLevel,
    /** json: one JSON object a line (production); pretty: readable lines. Unset: pretty under `next dev`, json otherwise. */
    LOG_FORMAT: logFormat,
    /** Bearer token a Prometheus scraper sends to /metrics; unset: /metrics answers 404. */
    METRICS_TOKEN: z.string().min(16, "must be at least 16 characters (openssl rand -hex 32)").optional(),

    /** An outbound proxy the Azure SDKs honour by themselves; with one, the ARM clients keep the SDK's own agent. */
    HTTPS_PROXY: z.string().min(1).optional(),
    https_proxy: z.string().min(1).optional(),
  })
  .superRefine((e, issue) => {
    // A step waiting for one request is busy, not stalled: the stall bound must outlast the request's own limit.
    if (e.STEP_STALL_SECONDS <= e.AZURE_REQUEST_TIMEOUT_SECONDS) {
      issue.addIssue({ code: "custom", path: ["STEP_STALL_SECONDS"], message: "must exceed AZURE_REQUEST_TIMEOUT_SECONDS" });
    }
  });

export type Env = z.infer<typeof envSchema>;

/** Parse a raw environment; throws one readable error naming every bad variable. */
export function parseEnv(raw: Record<string, string | undefined>): Env {
  const cleaned = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ""));
  const result = envSchema.safeParse(cleaned);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
  throw new Error(`Invalid configuration (see .env.example):\n${lines.join("\n")}`);
}

/** How the logger writes, from the environment alone: readable even when the rest of the configuration is invalid (the logger reports that). */
export function logSettings(): { level: Env["LOG_LEVEL"]; pretty: boolean } {
  const level = logLevel.safeParse(process.env.LOG_LEVEL || undefined);
  const format = logFormat.safeParse(process.env.LOG_FORMAT || undefined);
  const chosen = format.success ? format.data : undefined;
  return {
    // Unset under test runners (NODE_ENV=test): warnings and errors only, so test output stays readable.
    level: process.env.LOG_LEVEL ? (level.success ? level.data : "info") : process.env.NODE_ENV === "test" ? "warn" : "info",
    pretty: chosen ? chosen === "pretty" : (process.env.NODE_ENV ?? "development") === "development",
  };
}

let cached: Env | undefined;

/** True while `next build` runs: configuration is checked at server start instead. */
export function isBuildPhase(): boolean {
  return process.env.NEXT_PHASE === "phase-production-build";
}

/** The validated configuration of this process. */
export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}
