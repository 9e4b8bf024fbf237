// Encryption at rest (AES-256-GCM) and opaque tokens for sessions and pending sign-ins.
import "server-only";
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

// v2.<key id>.<iv>.<tag>.<body>; v1.<iv>.<tag>.<body> has no key id and is opened by trying each key.
const VERSION = "v2";
const LEGACY_VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The keys at rest: new data is sealed with `current`; `previous` still opens what it sealed (key rotation). */
export interface KeyRing {
  current: Buffer;
  previous?: Buffer | undefined;
}

/** Sealed data names no key this portal has: it was sealed with a key since removed from the configuration. */
export class KeyUnavailableError extends Error {
  constructor(readonly keyId: string) {
    super(`Sealed with key ${keyId}, which is not configured`);
    this.name = "KeyUnavailableError";
  }
}

/** A key's public id: the first 8 hex digits of its SHA-256 (names the key in sealed data, reveals nothing usable). */
export function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

function ring(keys: Buffer | KeyRing): Buffer[] {
  if (Buffer.isBuffer(keys)) return [keys];
  return keys.previous ? [keys.current, keys.previous] : [keys.current];
}

/** Encrypt UTF-8 text with the current key; `aad` binds the ciphertext to its owner (e.g. a session hash) so rows can't be swapped. */
export function encrypt(plaintext: string, keys: Buffer | KeyRing, aad = ""): string {
  const key = Buffer.isBuffer(keys) ? keys : keys.current;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return [VERSION, keyId(key), iv.toString("base64url"), tag.toString("base64url"), body.toString("base64url")].join(".");
}

function open(key: Buffer, iv: Buffer, tag: Buffer, body: Buffer, aad: string): string {
  // A shorter tag would verify on its prefix alone, so forging one would take 2^32 tries instead of 2^128.
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error("Unrecognised ciphertext format");
  const decipher = createDecipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(aad, "utf8"));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString("utf8");
}

/**
 * Decrypt what `encrypt` produced with one of `keys` and the same aad; throws if it was tampered with, and
 * KeyUnavailableError when it names a key that `keys` lacks.
 */
export function decrypt(ciphertext: string, keys: Buffer | KeyRing, aad = ""): string {
  const parts = ciphertext.split(".");
  const candidates = ring(keys);
  if (parts[0] === VERSION && parts.length === 5) {
    const [, id = "", iv = "", tag = "", body = ""] = parts;
    const key = candidates.find((k) => keyId(k) === id);
    if (!key) throw new KeyUnavailableError(id);
    return open(key, Buffer.from(iv, "base64url"), Buffer.from(tag, "base64url"), Buffer.from(body, "base64url"), aad);
  }
  if (parts[0] === LEGACY_VERSION && parts.length === 4) {
    const [, iv = "", tag = "", body = ""] = parts;
    let failure: unknown;
    for (const key of candidates) {
      try {
        return open(key, Buffer.from(iv, "base64url"), Buffer.from(tag, "base64url"), Buffer.from(body, "base64url"), aad);
      } catch (error) {
        failure = error;
      }
    }
    throw failure instanceof Error ? failure : new Error("Unrecognised ciphertext format");
  }
  throw new Error("Unrecognised ciphertext format");
}

/** A random, URL-safe token with 256 bits of entropy. */
export function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

/** SHA-256 hex: what the database stores instead of a bearer value (session token, OAuth state). */
export function sha256(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}
