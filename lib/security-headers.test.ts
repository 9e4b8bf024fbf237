// Security headers: nonce CSP, frame-ancestors, HSTS only for https on a real host.
import { describe, expect, it } from "vitest";
import { contentSecurityPolicy, newNonce, securityHeaders, wantsHsts } from "./security-headers";

const base = { portalUrl: "http://localhost:3000", authorityUrl: "https://login.microsoftonline.com/organizations", dev: false };

describe("security headers", () => {
  it("gives every render its own nonce and allows scripts only with it", () => {
    const a = newNonce();
    const b = newNonce();
    expect(a).not.toBe(b);
    expect(Buffer.from(a, "base64")).toHaveLength(16);
    const csp = contentSecurityPolicy({ nonce: a, authorityUrl: base.authorityUrl, dev: false, https: false });
    const script = csp.split("; ").find((d) => d.startsWith("script-src"));
    expect(script).toBe(`script-src 'self' 'nonce-${a}' 'strict-dynamic'`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("form-action 'self' https://login.microsoftonline.com");
    expect(csp).not.toContain("upgrade-insecure-requests");
  });

  it("allows eval only in development", () => {
    expect(contentSecurityPolicy({ nonce: "n", authorityUrl: base.authorityUrl, dev: true, https: false })).toContain("'unsafe-eval'");
    expect(contentSecurityPolicy({ nonce: "n", authorityUrl: base.authorityUrl, dev: false, https: true })).not.toContain("unsafe-eval");
  });

  it("sends HSTS only for https on a host that is not loopback", () => {
    expect(wantsHsts("https://portal.example.com")).toBe(true);
    expect(wantsHsts("http://portal.example.com")).toBe(false);
    expect(wantsHsts("https://localhost:3000")).toBe(false);
    expect(wantsHsts("https://127.0.0.1:3000")).toBe(false);
    expect(securityHeaders({ ...base, nonce: "n", portalUrl: "https://portal.example.com" })["Strict-Transport-Security"]).toMatch(
      /^max-age=\d+/,
    );
    expect(securityHeaders({ ...base, nonce: "n" })["Strict-Transport-Security"]).toBeUndefined();
  });

  it("sets nosniff, a referrer policy and no framing", () => {
    const h = securityHeaders({ ...base, nonce: "n" });
    expect(h["X-Content-Type-Options"]).toBe("nosniff");
    expect(h["Referrer-Policy"]).toBe("strict-origin-when-cross-origin");
    expect(h["X-Frame-Options"]).toBe("DENY");
  });
});
