import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decrypt, encrypt, keyId, KeyUnavailableError, randomToken, sha256 } from "./crypto";

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

/** What the portal sealed before key ids: v1.<iv>.<tag>.<body>, kept in existing rows. */
function sealV1(plaintext: string, k: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", k, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), body.toString("base64url")].join(".");
}

describe("authentication tag", () => {
  it("refuses a tag cut short, which GCM would otherwise check on its prefix alone", () => {
    const legacy = sealV1("secret", key, "session-1").split(".");
    const sealed = encrypt("secret", key, "session-1").split(".");
    for (const bytes of [4, 8, 12, 15]) {
      const cutLegacy = [...legacy];
      cutLegacy[2] = Buffer.from(legacy[2] ?? "", "base64url")
        .subarray(0, bytes)
        .toString("base64url");
      expect(() => decrypt(cutLegacy.join("."), key, "session-1"), `${bytes}-byte tag, v1`).toThrow(/Unrecognised ciphertext format/);
      const cut = [...sealed];
      cut[3] = Buffer.from(sealed[3] ?? "", "base64url")
        .subarray(0, bytes)
        .toString("base64url");
      expect(() => decrypt(cut.join("."), key, "session-1"), `${bytes}-byte tag, v2`).toThrow(/Unrecognised ciphertext format/);
    }
  });
});

describe("key ids and rotation", () => {
  const previous = randomBytes(32);
  const current = randomBytes(32);

  it("names the sealing key: the first 8 hex digits of its SHA-256", () => {
    expect(keyId(current)).toBe(createHash("sha256").update(current).digest("hex").slice(0, 8));
    const parts = encrypt("x", { current, previous }, "a").split(".");
    expect(parts).toHaveLength(5);
    expect(parts.slice(0, 2)).toEqual(["v2", keyId(current)]);
  });

  it("seals with the current key and opens what the previous key sealed", () => {
    const old = encrypt("old secret", previous, "row-1");
    expect(decrypt(old, { current, previous }, "row-1")).toBe("old secret");
    const fresh = encrypt("new secret", { current, previous }, "row-1");
    expect(decrypt(fresh, current, "row-1")).toBe("new secret");
    expect(() => decrypt(fresh, previous, "row-1")).toThrow(KeyUnavailableError);
  });

  it("reports data sealed with a key it no longer has", () => {
    const sealed = encrypt("secret", previous, "row-1");
    let error: unknown;
    try {
      decrypt(sealed, { current }, "row-1");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KeyUnavailableError);
    expect((error as KeyUnavailableError).keyId).toBe(keyId(previous));
  });

  it("still opens rows sealed before key ids, with the current or the previous key", () => {
    expect(decrypt(sealV1("legacy", current, "row-2"), { current, previous }, "row-2")).toBe("legacy");
    expect(decrypt(sealV1("legacy", previous, "row-2"), { current, previous }, "row-2")).toBe("legacy");
    expect(() => decrypt(sealV1("legacy", randomBytes(32), "row-2"), { current, previous }, "row-2")).toThrow();
    expect(() => decrypt(sealV1("legacy", current, "row-2"), { current, previous }, "row-3")).toThrow();
  });

  it("refuses a key id that was swapped for another configured key's", () => {
    const parts = encrypt("secret", { current, previous }, "row-1").split(".");
    parts[1] = keyId(previous);
    expect(() => decrypt(parts.join("."), { current, previous }, "row-1")).toThrow();
  });
});
