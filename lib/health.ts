// Liveness and readiness of this server: what /healthz and /readyz answer. No secrets, URLs or error texts in the answer.
import "server-only";
import { pendingMigrations, pingDatabase } from "@/lib/db/health";
import { draining } from "@/lib/engine/shutdown";
import { env } from "@/lib/env";

/** One readiness check: ok or fail, how long it took, and on failure a short reason without hosts or secrets. */
export interface CheckResult {
  status: "ok" | "fail";
  ms: number;
  reason?: string;
}

/** What /readyz answers; `ready` decides between 200 and 503. */
export interface Readiness {
  ready: boolean;
  status: "ready" | "not_ready" | "draining";
  checks?: { database: CheckResult; migrations: CheckResult; signInAuthority: CheckResult };
}

/** What the readiness checks call; injected in tests. */
export interface ReadinessDeps {
  draining(): boolean;
  pingDatabase(): Promise<void>;
  pendingMigrations(): Promise<string[]>;
  /** Fetches the sign-in authority's OpenID metadata; rejects with a short reason (see CheckFailure). */
  probeAuthority(signal: AbortSignal): Promise<void>;
  now(): number;
}

/** Bounds of the readiness checks. */
export interface ReadinessOptions {
  /** Longest wait for one check. */
  timeoutMs: number;
  /** How long a successful authority probe is reused: a scrape storm reaches Entra once per this period. */
  authorityOkTtlMs: number;
  /** How long a failed authority probe is reused. */
  authorityFailTtlMs: number;
}

/** A failure whose message is safe to show in /readyz. */
export class CheckFailure extends Error {}

/** Checks run on each call, except the authority's, which is cached and shared by concurrent callers. */
export function readinessChecker(deps: ReadinessDeps, options: ReadinessOptions): () => Promise<Readiness> {
  let authority: { at: number; result: Promise<CheckResult>; settled?: CheckResult } | undefined;
  const authorityCheck = (): Promise<CheckResult> => {
    const now = deps.now();
    const last = authority;
    // In flight (concurrent callers share it), or settled and still fresh for its outcome.
    if (last && (!last.settled || now - last.at < (last.settled.status === "ok" ? options.authorityOkTtlMs : options.authorityFailTtlMs))) {
      return last.result;
    }
    const entry: NonNullable<typeof authority> = {
      at: now,
      result: timed(deps, options.timeoutMs, (signal) => deps.probeAuthority(signal)),
    };
    void entry.result.then((r) => (entry.settled = r));
    authority = entry;
    return entry.result;
  };

  return async () => {
    if (deps.draining()) return { ready: false, status: "draining" };
    const [database, migrations, signInAuthority] = await Promise.all([
      timed(deps, options.timeoutMs, () => deps.pingDatabase()),
      timed(deps, options.timeoutMs, async () => {
        const pending = await deps.pendingMigrations();
        if (pending.length > 0) throw new CheckFailure(`${pending.length} migrations not applied`);
      }),
      authorityCheck(),
    ]);
    const ready = [database, migrations, signInAuthority].every((c) => c.status === "ok");
    return { ready, status: ready ? "ready" : "not_ready", checks: { database, migrations, signInAuthority } };
  };
}

/** Runs one check within timeoutMs; any error becomes a fail with a reason (CheckFailure's message, else a generic one). */
async function timed(deps: ReadinessDeps, timeoutMs: number, check: (signal: AbortSignal) => Promise<void>): Promise<CheckResult> {
  const start = deps.now();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ms = () => Math.max(0, Math.round(deps.now() - start));
  try {
    await Promise.race([
      check(controller.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          // Rejected before the abort, so the timeout (not the aborted probe's own error) is what the race settles with.
          reject(new CheckFailure(`no answer within ${timeoutMs} ms`));
          controller.abort();
        }, timeoutMs);
      }),
    ]);
    return { status: "ok", ms: ms() };
  } catch (error) {
    // Driver and network errors name hosts, users and databases: only our own reasons are shown.
    return { status: "fail", ms: ms(), reason: error instanceof CheckFailure ? error.message : "unreachable" };
  } finally {
    clearTimeout(timer);
  }
}

/** GETs the authority's OpenID configuration and checks it names its endpoints. */
async function probeAuthority(signal: AbortSignal): Promise<void> {
  const res = await fetch(`${env().ENTRA_AUTHORITY}/v2.0/.well-known/openid-configuration`, { cache: "no-store", signal });
  if (!res.ok) throw new CheckFailure(`answered ${res.status}`);
  const body = (await res.json().catch(() => null)) as { token_endpoint?: unknown; authorization_endpoint?: unknown } | null;
  if (typeof body?.token_endpoint !== "string" || typeof body.authorization_endpoint !== "string") {
    throw new CheckFailure("answered without token and authorization endpoints");
  }
}

const READINESS_KEY = Symbol.for("portal.readiness");

/** This server's readiness, with the production checks (one checker per process, so the authority cache is shared). */
export function readiness(): Promise<Readiness> {
  const g = globalThis as { [READINESS_KEY]?: () => Promise<Readiness> };
  g[READINESS_KEY] ??= readinessChecker(
    { draining, pingDatabase, pendingMigrations, probeAuthority, now: () => performance.now() },
    {
      timeoutMs: Math.min(5_000, env().AZURE_REQUEST_TIMEOUT_SECONDS * 1000),
      authorityOkTtlMs: 30_000,
      authorityFailTtlMs: 5_000,
    },
  );
  return g[READINESS_KEY]();
}
