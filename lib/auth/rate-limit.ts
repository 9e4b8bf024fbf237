// How fast unauthenticated clients may start sign-ins: token buckets in this process's memory.
import "server-only";
import { isIPv4, isIPv6 } from "node:net";
import { env } from "@/lib/env";
import { SIGN_IN_TTL_MS } from "./cookies";

/** A decision: go ahead, or wait this many seconds. */
export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets by key: `capacity` tokens each, refilled at `perMs` tokens a millisecond; at most `maxKeys` tracked. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    readonly capacity: number,
    readonly perMs: number,
    private readonly maxKeys = 10_000,
  ) {}

  /** Milliseconds until `key` has a token (0: now). */
  waitMs(key: string, now: number): number {
    const tokens = this.tokens(key, now);
    return tokens >= 1 ? 0 : Math.ceil((1 - tokens) / this.perMs);
  }

  /** Spends one of `key`'s tokens; call after waitMs said 0. */
  take(key: string, now: number): void {
    const tokens = this.tokens(key, now);
    // Re-inserted, so the Map's order is least recently used first and the oldest is forgotten first.
    this.buckets.delete(key);
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    for (const oldest of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys) break;
      this.buckets.delete(oldest);
    }
  }

  private tokens(key: string, now: number): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return this.capacity;
    return Math.min(this.capacity, bucket.tokens + Math.max(0, now - bucket.at) * this.perMs);
  }
}

/** The limits of sign-in starts in one process. */
export interface SignInLimits {
  /** Per client: burst and refill per minute. */
  perClientPerMinute: number;
  /** The pending sign-ins kept at most (SIGN_IN_PENDING_MAX). */
  pendingMax: number;
  /** How long a pending sign-in lives. */
  ttlMs: number;
}

/**
 * A limiter of sign-in starts: per client, and for all clients together. The global burst plus what refills during a
 * sign-in's lifetime adds up to `pendingMax`, so a flood, even from forged addresses, never pushes a live sign-in out
 * of the bounded table: it gets 429s instead.
 */
export function signInLimiter(limits: SignInLimits): (client: string, now?: number) => RateDecision {
  const perClient = new TokenBuckets(limits.perClientPerMinute, limits.perClientPerMinute / 60_000);
  const globalBurst = Math.ceil(limits.pendingMax / 10);
  const global = new TokenBuckets(globalBurst, (limits.pendingMax - globalBurst) / limits.ttlMs, 1);
  return (client, now = Date.now()) => {
    const wait = Math.max(perClient.waitMs(client, now), global.waitMs("", now));
    if (wait > 0) return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)) };
    perClient.take(client, now);
    global.take("", now);
    return { ok: true };
  };
}

// IPv6 clients usually hold a whole /64: keyed by it, one client can't rotate through addresses.
function ipv6Network(ip: string): string {
  const [head = "", tail] = ip.split("::");
  const part = (s: string) => (s ? s.split(":").flatMap((g) => (g.includes(".") ? ["0", "0"] : [g])) : []);
  const left = part(head);
  const right = tail === undefined ? [] : part(tail);
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/**
 * The client a request comes from, as a rate-limit key. `next start` puts the socket's address in X-Forwarded-For
 * only when the request has none, so the client is the last entry, or with `trustedProxies` proxies that append to
 * it, the entry that many places from the end. Without a trusted proxy a client can name itself: the global limit
 * bounds that.
 */
export function clientKey(forwardedFor: string | null, trustedProxies: number): string {
  const hops = (forwardedFor ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  let hop = hops[hops.length - Math.max(trustedProxies, 1)] ?? hops[0] ?? "unknown";
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed?.[1]) hop = bracketed[1];
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d+$/.test(hop)) hop = hop.slice(0, hop.lastIndexOf(":"));
  const mapped = /^::ffff:(\d{1,3}(\.\d{1,3}){3})$/i.exec(hop);
  if (mapped?.[1]) hop = mapped[1];
  if (isIPv4(hop)) return hop;
  if (isIPv6(hop)) return ipv6Network(hop.toLowerCase());
  return hop.slice(0, 100);
}

let limiter: ReturnType<typeof signInLimiter> | undefined;

/** Whether the client of a request with these headers may start a sign-in now (the configured limits). */
export function allowSignInStart(headers: Headers, now = Date.now()): RateDecision {
  const e = env();
  limiter ??= signInLimiter({ perClientPerMinute: e.SIGN_IN_RATE_PER_MINUTE, pendingMax: e.SIGN_IN_PENDING_MAX, ttlMs: SIGN_IN_TTL_MS });
  return limiter(clientKey(headers.get("x-forwarded-for"), e.TRUST_PROXY), now);
}
