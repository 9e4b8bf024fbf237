// Minimal RS256 JWT signing and verification (no dependency needed for one algorithm).
import crypto from "node:crypto";
import type { SigningKey } from "./keys";

export type JwtClaims = Record<string, unknown>;

/** Sign `claims` as an RS256 JWT with the simulator key. */
export function signJwt(claims: JwtClaims, key: SigningKey): string {
  const header = { typ: "JWT", alg: "RS256", kid: key.kid, x5t: key.kid };
  const head = Buffer.from(JSON.stringify(header)).toString("base64url");
  const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
  const sig = crypto.sign("RSA-SHA256", Buffer.from(`${head}.${body}`), key.privateKey).toString("base64url");
  return `${head}.${body}.${sig}`;
}

export type VerifyResult = { ok: true; claims: JwtClaims } | { ok: false; reason: "malformed" | "signature" | "expired" | "notYetValid" };

/** Verify signature and lifetime (with 5 min clock skew on nbf, as Entra's validators allow). */
export function verifyJwt(token: string, key: SigningKey, nowMs = Date.now()): VerifyResult {
  const parts = token.split(".");
  if (parts.length !== 3) return { ok: false, reason: "malformed" };
  const [head, body, sig] = parts as [string, string, string];
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(Buffer.from(head, "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    return { ok: false, reason: "malformed" };
  }
  if (!header || typeof header !== "object" || (header as { alg?: unknown }).alg !== "RS256") return { ok: false, reason: "malformed" };
  if (!claims || typeof claims !== "object" || Array.isArray(claims)) return { ok: false, reason: "malformed" };
  const valid = crypto.verify("RSA-SHA256", Buffer.from(`${head}.${body}`), key.publicKey, Buffer.from(sig, "base64url"));
  if (!valid) return { ok: false, reason: "signature" };
  const c = claims as JwtClaims;
  const now = Math.floor(nowMs / 1000);
  if (typeof c.exp !== "number" || c.exp <= now) return { ok: false, reason: "expired" };
  if (typeof c.nbf === "number" && c.nbf > now + 300) return { ok: false, reason: "notYetValid" };
  return { ok: true, claims: c };
}

/** Decode without verifying (for tests and diagnostics). */
export function decodeJwt(token: string): JwtClaims {
  const body = token.split(".")[1];
  if (!body) throw new Error("not a JWT");
  return JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as JwtClaims;
}
