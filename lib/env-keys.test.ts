// The at-rest key rules and the sign-in limits of the configuration (lib/env.ts).
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseEnv } from "./env";

const base = { ENTRA_CLIENT_ID: "5f0e4c52-7b4a-4f0e-9a53-3c2b1f1e0a11", ENTRA_CLIENT_SECRET: "s" };
const b64 = (bytes: number[] | Buffer) => Buffer.from(bytes).toString("base64");
/** 32 bytes cycling through `distinct` values. */
const cycling = (distinct: number) => b64(Array.from({ length: 32 }, (_, i) => (i % distinct) * 7));

function problem(raw: Record<string, string>): string {
  try {
    parseEnv({ ...base, ...raw });
    return "";
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

describe("ENCRYPTION_KEY", () => {
  it.each([
    ["all zeros", b64(Buffer.alloc(32))],
    ["one repeated byte", b64(Buffer.alloc(32, 7))],
    ["two alternating bytes", cycling(2)],
    ["32 ASCII digits", b64(Buffer.from("01234567890123456789012345678901"))],
  ])("refuses %s: fewer than 16 distinct byte values", (_, key) => {
    expect(problem({ ENCRYPTION_KEY: key })).toContain("ENCRYPTION_KEY: is not random: fewer than 16 distinct byte values");
  });

  it("draws the line at 16 distinct byte values: 15 refused, 16 accepted", () => {
    expect(problem({ ENCRYPTION_KEY: cycling(15) })).toContain("ENCRYPTION_KEY: is not random");
    expect(problem({ ENCRYPTION_KEY: cycling(16) })).toBe("");
  });

  it.each([
    ["31 bytes", randomBytes(31).toString("base64")],
    ["33 bytes", randomBytes(33).toString("base64")],
    ["base64url", Buffer.from(Array.from({ length: 32 }, (_, i) => 250 - i)).toString("base64url")],
    ["base64 with junk the decoder would skip", `${randomBytes(32).toString("base64")}!!`],
  ])("refuses %s: exactly 32 bytes in canonical base64", (_, key) => {
    expect(problem({ ENCRYPTION_KEY: key })).toContain("ENCRYPTION_KEY: must be 32 bytes, base64-encoded");
  });

  it("applies the same rules to ENCRYPTION_KEY_PREVIOUS, which is optional", () => {
    const key = randomBytes(32).toString("base64");
    expect(parseEnv({ ...base, ENCRYPTION_KEY: key }).ENCRYPTION_KEY_PREVIOUS).toBeUndefined();
    const previous = randomBytes(32).toString("base64");
    expect(parseEnv({ ...base, ENCRYPTION_KEY: key, ENCRYPTION_KEY_PREVIOUS: previous }).ENCRYPTION_KEY_PREVIOUS).toBe(previous);
    expect(problem({ ENCRYPTION_KEY: key, ENCRYPTION_KEY_PREVIOUS: b64(Buffer.alloc(32)) })).toContain(
      "ENCRYPTION_KEY_PREVIOUS: is not random",
    );
  });
});

describe("sign-in limits", () => {
  const key = randomBytes(32).toString("base64");

  it("defaults to 30 starts a minute per client, 1,000 pending sign-ins, no trusted proxy", () => {
    expect(parseEnv({ ...base, ENCRYPTION_KEY: key })).toMatchObject({
      SIGN_IN_RATE_PER_MINUTE: 30,
      SIGN_IN_PENDING_MAX: 1000,
      TRUST_PROXY: 0,
    });
  });

  it("reads and bounds them", () => {
    expect(
      parseEnv({ ...base, ENCRYPTION_KEY: key, SIGN_IN_RATE_PER_MINUTE: "5", SIGN_IN_PENDING_MAX: "5000", TRUST_PROXY: "2" }),
    ).toMatchObject({ SIGN_IN_RATE_PER_MINUTE: 5, SIGN_IN_PENDING_MAX: 5000, TRUST_PROXY: 2 });
    expect(problem({ ENCRYPTION_KEY: key, SIGN_IN_PENDING_MAX: "10" })).toContain("SIGN_IN_PENDING_MAX");
    expect(problem({ ENCRYPTION_KEY: key, SIGN_IN_RATE_PER_MINUTE: "0" })).toContain("SIGN_IN_RATE_PER_MINUTE");
    expect(problem({ ENCRYPTION_KEY: key, TRUST_PROXY: "yes" })).toContain("TRUST_PROXY");
  });
});
