import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decrypt, encrypt, randomToken, sha256 } from "./crypto";

const key = randomBytes(32);

describe("encrypt/decrypt", () => {
  it("round-trips and never contains the plaintext", () => {
    const secret = "refresh-token-value-🙂";
    const sealed = encrypt(secret, key, "session-1");
    expect(sealed).not.toContain("refresh");
    expect(decrypt(sealed, key, "session-1")).toBe(secret);
  });

  it("uses a fresh IV each time", () => {
    expect(encrypt("x", key)).not.toBe(encrypt("x", key));
  });

  it("refuses another key, another owner, or a modified body", () => {
    const sealed = encrypt("secret", key, "session-1");
    expect(() => decrypt(sealed, randomBytes(32), "session-1")).toThrow();
    expect(() => decrypt(sealed, key, "session-2")).toThrow();
    const parts = sealed.split(".");
    const body = Buffer.from(parts[3] ?? "", "base64url");
    body[0] = (body[0] ?? 0) ^ 1;
    parts[3] = body.toString("base64url");
    expect(() => decrypt(parts.join("."), key, "session-1")).toThrow();
  });
});

describe("tokens", () => {
  it("are random and hash deterministically", () => {
    const a = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(randomToken());
    expect(sha256(a)).toBe(sha256(a));
    expect(sha256(a)).toMatch(/^[0-9a-f]{64}$/);
  });
});
