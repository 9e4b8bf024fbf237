// Response security headers: a per-request nonce CSP plus HSTS only where https is real (not localhost).
import "server-only";

/** A fresh CSP nonce (128 random bits, base64). */
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

/** True when the portal is served over https on a real host, so browsers may be told to insist on https. */
export function wantsHsts(portalUrl: string): boolean {
  const u = new URL(portalUrl);
  return u.protocol === "https:" && !["localhost", "127.0.0.1", "[::1]"].includes(u.hostname);
}

/**
 * The Content-Security-Policy of a page render. Scripts: only this render's nonce ('strict-dynamic' lets Next's own
 * chunk loader add the scripts it needs). Styles keep 'unsafe-inline': React writes style="" attributes, which nonces can't cover.
 * form-action names the sign-in authority because sign-out is a form POST answered by a redirect to it (Chrome checks redirects).
 */
export function contentSecurityPolicy(opts: { nonce: string; authorityUrl: string; dev: boolean; https: boolean }): string {
  const authority = new URL(opts.authorityUrl).origin;
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${opts.nonce}' 'strict-dynamic'${opts.dev ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    `form-action 'self' ${authority}`,
    "frame-ancestors 'none'",
    ...(opts.https ? ["upgrade-insecure-requests"] : []),
  ].join("; ");
}

/** Every security header of a response from the proxy (static ones also come from next.config.js for assets). */
export function securityHeaders(opts: { nonce: string; portalUrl: string; authorityUrl: string; dev: boolean }): Record<string, string> {
  const https = opts.portalUrl.startsWith("https://");
  return {
    "Content-Security-Policy": contentSecurityPolicy({ nonce: opts.nonce, authorityUrl: opts.authorityUrl, dev: opts.dev, https }),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    ...(wantsHsts(opts.portalUrl) ? { "Strict-Transport-Security": "max-age=63072000; includeSubDomains" } : {}),
  };
}
