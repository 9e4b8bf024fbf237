// Latency profile scaled from real Azure (per-request latency, LRO and replication waits) and ARM's token-bucket throttling.
import fs from "node:fs";
import { z } from "zod";
import type { SimResponse } from "./contract";
import type { ArmThrottle, LatencyProfile, SimState } from "./state";

const ms = z.number().int().min(0).max(600_000);

export const perRequestLatencySchema = z.object({ armRead: ms, armWrite: ms, graphRead: ms, graphWrite: ms });

const bucketSchema = z.object({ burst: z.number().int().min(1).max(100_000), refillPerSecond: z.number().positive().max(100_000) });
export const armThrottleSchema = z.object({ reads: bucketSchema, writes: bucketSchema, deletes: bucketSchema });

/** A profile file (simulator/profiles/*.json): real-Azure figures in ms, and the factor that shortens the waits. */
export const azureProfileSchema = z.object({
  description: z.string(),
  /** Multiplies lroMs and replicationMs (waits of many seconds); request latencies are used as they are. */
  timeScale: z.number().positive().max(1),
  requestMs: perRequestLatencySchema.extend({ other: ms }),
  lroMs: z.record(z.string(), z.number().int().min(0).max(3_600_000)),
  replicationMs: z.number().int().min(0).max(3_600_000),
  armThrottle: armThrottleSchema,
  sources: z.record(z.string(), z.string()),
});
export type AzureProfile = z.infer<typeof azureProfileSchema>;

/** Read and validate a profile file. */
export function loadAzureProfile(file: string): AzureProfile {
  return azureProfileSchema.parse(JSON.parse(fs.readFileSync(file, "utf8")));
}

/** The simulator latency (POST /_sim/latency body) of a profile: waits multiplied by timeScale, rounded to ms. */
export function scaledLatency(profile: AzureProfile): LatencyProfile {
  const scale = (v: number) => Math.round(v * profile.timeScale);
  const { other, ...perRequestMs } = profile.requestMs;
  return {
    requestMs: other,
    perRequestMs,
    lroMs: Object.fromEntries(Object.entries(profile.lroMs).map(([k, v]) => [k, scale(v)])),
    replicationMs: scale(profile.replicationMs),
    armThrottle: profile.armThrottle,
  };
}

const isRead = (method: string) => method === "GET" || method === "HEAD";
// POST actions that only read: ARM answers them as fast as a GET (they still count as writes for throttling).
const READ_ACTION = /\/(checkNameAvailability|listKeys)$/i;

/** Added latency of one request: the per-service figure when a profile sets one, else requestMs. */
export function requestDelayMs(
  latency: LatencyProfile,
  service: "arm" | "graph" | "workbench" | "loganalytics",
  method: string,
  path = "",
): number {
  const p = latency.perRequestMs;
  if (!p || service === "workbench" || service === "loganalytics") return latency.requestMs;
  if (service === "arm") return isRead(method) || READ_ACTION.test(path) ? p.armRead : p.armWrite;
  return isRead(method) ? p.graphRead : p.graphWrite;
}

/** ARM's operation type of a method, as its x-ms-ratelimit-remaining-* headers name it (POST actions count as writes). */
export function armOperationType(method: string): "reads" | "writes" | "deletes" {
  return isRead(method) ? "reads" : method === "DELETE" ? "deletes" : "writes";
}

interface Bucket {
  tokens: number;
  at: number;
}
const buckets = new WeakMap<SimState, Map<string, Bucket>>();

/** Result of taking one token: allowed with what remains, or throttled with the wait until the next token. */
export type ThrottleDecision =
  | { ok: true; remaining: number; op: "reads" | "writes" | "deletes" }
  | { ok: false; retryAfterSeconds: number; op: "reads" | "writes" | "deletes" };

/**
 * Take a token from the bucket of (subscription or tenant, principal, operation type). Real ARM keeps one bucket per
 * region as well; the simulator is one region. Buckets live as long as the state (a reset refills them).
 */
export function takeArmToken(
  state: SimState,
  limits: ArmThrottle,
  key: { scope: string; principal: string; method: string },
  now = state.now(),
): ThrottleDecision {
  const op = armOperationType(key.method);
  const limit = limits[op];
  let map = buckets.get(state);
  if (!map) {
    map = new Map();
    buckets.set(state, map);
  }
  const id = `${key.scope.toLowerCase()}|${key.principal}|${op}`;
  const b = map.get(id) ?? { tokens: limit.burst, at: now };
  b.tokens = Math.min(limit.burst, b.tokens + ((now - b.at) / 1000) * limit.refillPerSecond);
  b.at = now;
  map.set(id, b);
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return { ok: true, remaining: Math.floor(b.tokens), op };
  }
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / limit.refillPerSecond)), op };
}

/** ARM's 429 for an exhausted subscription (or tenant) bucket, with Retry-After and zero remaining. */
export function throttledResponse(
  d: { retryAfterSeconds: number; op: string },
  scope: { subscriptionId?: string; tenantId: string; principal: string },
): SimResponse {
  const level = scope.subscriptionId ? "subscription" : "tenant";
  return {
    status: 429,
    headers: { "retry-after": String(d.retryAfterSeconds), [`x-ms-ratelimit-remaining-${level}-${d.op}`]: "0" },
    body: {
      error: {
        code: level === "subscription" ? "SubscriptionRequestsThrottled" : "TenantRequestsThrottled",
        message: `Number of '${d.op.replace(/s$/, "")}' requests for ${level} '${scope.subscriptionId ?? scope.tenantId}' actor '${scope.principal}' exceeded. Please try again after '${d.retryAfterSeconds}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`,
      },
    },
  };
}
