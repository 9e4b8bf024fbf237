import { describe, expect, it } from "vitest";
import { clientKey, signInLimiter, TokenBuckets } from "./rate-limit";

const MINUTE = 60_000;
const limits = { perClientPerMinute: 30, pendingMax: 1000, ttlMs: 10 * MINUTE };

describe("TokenBuckets", () => {
  it("allows a burst of `capacity`, then one token per refill interval", () => {
    const buckets = new TokenBuckets(3, 1 / 1000);
    for (let i = 0; i < 3; i++) {
      expect(buckets.waitMs("a", 0)).toBe(0);
      buckets.take("a", 0);
    }
    expect(buckets.waitMs("a", 0)).toBe(1000);
    expect(buckets.waitMs("a", 400)).toBe(600);
    expect(buckets.waitMs("a", 1000)).toBe(0);
    expect(buckets.waitMs("b", 0)).toBe(0);
  });

  it("forgets the least recently used clients past its size", () => {
    const buckets = new TokenBuckets(1, 1 / MINUTE, 2);
    buckets.take("a", 0);
    buckets.take("b", 0);
    buckets.take("c", 0);
    expect(buckets.waitMs("a", 0)).toBe(0);
    expect(buckets.waitMs("c", 0)).toBeGreaterThan(0);
  });
});

describe("signInLimiter", () => {
  it("lets a client start 30 sign-ins at once, then one every 2 seconds, with Retry-After", () => {
    const allow = signInLimiter(limits);
    for (let i = 0; i < 30; i++) expect(allow("198.51.100.7", 0)).toEqual({ ok: true });
    expect(allow("198.51.100.7", 0)).toEqual({ ok: false, retryAfterSeconds: 2 });
    expect(allow("198.51.100.7", 2000)).toEqual({ ok: true });
    // Another client is not held back by the first.
    expect(allow("203.0.113.9", 2000)).toEqual({ ok: true });
  });

  it("bounds all clients together so live sign-ins never exceed the pending cap, even from forged addresses", () => {
    const allow = signInLimiter(limits);
    const allowedAt: number[] = [];
    // 20 minutes of one start every 10 ms, each from a new address: 120,000 attempts.
    for (let t = 0, i = 0; t < 20 * MINUTE; t += 10, i++)
      if (allow(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, t).ok) allowedAt.push(t);
    // Burst 100, then 90 a minute: at most 1,000 in any 10 minutes (a sign-in's lifetime).
    let most = 0;
    for (let first = 0, last = 0; last < allowedAt.length; last++) {
      while ((allowedAt[last] ?? 0) - (allowedAt[first] ?? 0) >= limits.ttlMs) first++;
      most = Math.max(most, last - first + 1);
    }
    expect(most).toBeLessThanOrEqual(1000);
    expect(allowedAt.length).toBeGreaterThan(1800);
    expect(allow("192.0.2.1", allowedAt.at(-1) ?? 0)).toMatchObject({ ok: false });
  });
});

describe("clientKey", () => {
  it("takes the address next start recorded, or the one the trusted proxies appended", () => {
    expect(clientKey("203.0.113.5", 0)).toBe("203.0.113.5");
    expect(clientKey("forged, 203.0.113.5", 0)).toBe("203.0.113.5");
    expect(clientKey("forged, 203.0.113.5", 1)).toBe("203.0.113.5");
    expect(clientKey("forged, 203.0.113.5, 10.0.0.2", 2)).toBe("203.0.113.5");
    expect(clientKey("203.0.113.5", 3)).toBe("203.0.113.5");
    expect(clientKey(null, 0)).toBe("unknown");
  });

  it("drops ports and IPv4-mapped prefixes, and keys IPv6 by its /64", () => {
    expect(clientKey("203.0.113.5:51234", 1)).toBe("203.0.113.5");
    expect(clientKey("::ffff:127.0.0.1", 0)).toBe("127.0.0.1");
    expect(clientKey("[2001:db8:1:2::5]:443", 1)).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:DB8:1:2:aaaa:bbbb:cccc:dddd", 0)).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8::1", 0)).toBe("2001:db8:0:0::/64");
    expect(clientKey("::1", 0)).toBe("0:0:0:0::/64");
  });
});
