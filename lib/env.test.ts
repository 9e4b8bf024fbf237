import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { logSettings, parseEnv } from "./env";

const valid = {
  ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  ENTRA_CLIENT_ID: "5f0e4c52-7b4a-4f0e-9a53-3c2b1f1e0a11",
  ENTRA_CLIENT_SECRET: "s",
};

describe("parseEnv", () => {
  it("applies public-cloud defaults", () => {
    const env = parseEnv(valid);
    expect(env.ENTRA_AUTHORITY).toBe("https://login.microsoftonline.com/organizations");
    expect(env.ARM_ENDPOINT).toBe("https://management.azure.com");
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.VENDOR_EGRESS_IPS).toEqual([]);
  });

  it("names every missing or wrong variable and what it expects", () => {
    let message = "";
    try {
      parseEnv({ ENTRA_AUTHORITY: "http://login.example", DATABASE_URL: "mysql://x" });
    } catch (error) {
      message = error instanceof Error ? error.message : "";
    }
    expect(message).toContain("ENCRYPTION_KEY: is required");
    expect(message).toContain("ENTRA_CLIENT_ID: is required");
    expect(message).toContain("ENTRA_AUTHORITY: must be an https:// URL");
    expect(message).toContain("DATABASE_URL: must start with postgres://");
    expect(() => parseEnv({ ...valid, ENCRYPTION_KEY: "c2hvcnQ=" })).toThrow(/ENCRYPTION_KEY: must be 32 bytes/);
  });

  it("treats empty strings as unset and trims trailing slashes and lists", () => {
    const env = parseEnv({
      ...valid,
      DATABASE_URL: "",
      ARM_ENDPOINT: "https://127.0.0.1:9443/",
      VENDOR_EGRESS_IPS: " 203.0.113.7, 198.51.100.2 ",
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.ARM_ENDPOINT).toBe("https://127.0.0.1:9443");
    expect(env.VENDOR_EGRESS_IPS).toEqual(["203.0.113.7", "198.51.100.2"]);
  });

  it("bounds the shutdown grace period: 20 s unless set, 0 (hand back at once) to an hour", () => {
    expect(parseEnv(valid).SHUTDOWN_GRACE_SECONDS).toBe(20);
    expect(parseEnv({ ...valid, SHUTDOWN_GRACE_SECONDS: "0" }).SHUTDOWN_GRACE_SECONDS).toBe(0);
    expect(parseEnv({ ...valid, SHUTDOWN_GRACE_SECONDS: "2.5" }).SHUTDOWN_GRACE_SECONDS).toBe(2.5);
    expect(() => parseEnv({ ...valid, SHUTDOWN_GRACE_SECONDS: "-1" })).toThrow(/SHUTDOWN_GRACE_SECONDS/);
    expect(() => parseEnv({ ...valid, SHUTDOWN_GRACE_SECONDS: "3601" })).toThrow(/SHUTDOWN_GRACE_SECONDS/);
  });
});

describe("observability settings", () => {
  it("leaves /metrics off unless METRICS_TOKEN is set, and refuses a short token", () => {
    expect(parseEnv(valid).METRICS_TOKEN).toBeUndefined();
    expect(parseEnv({ ...valid, METRICS_TOKEN: "a".repeat(32) }).METRICS_TOKEN).toBe("a".repeat(32));
    expect(() => parseEnv({ ...valid, METRICS_TOKEN: "short" })).toThrow("METRICS_TOKEN: must be at least 16 characters");
  });

  it("reads the log level and format alone, with fallbacks, even when the rest of the configuration is invalid", () => {
    vi.stubEnv("ENCRYPTION_KEY", "not-a-key");
    try {
      vi.stubEnv("NODE_ENV", "production");
      vi.stubEnv("LOG_LEVEL", "");
      vi.stubEnv("LOG_FORMAT", "");
      expect(logSettings()).toEqual({ level: "info", pretty: false });
      vi.stubEnv("NODE_ENV", "development");
      expect(logSettings()).toEqual({ level: "info", pretty: true });
      vi.stubEnv("LOG_FORMAT", "json");
      vi.stubEnv("LOG_LEVEL", "debug");
      expect(logSettings()).toEqual({ level: "debug", pretty: false });
      vi.stubEnv("LOG_LEVEL", "verbose");
      expect(logSettings().level).toBe("info");
      vi.stubEnv("NODE_ENV", "test");
      vi.stubEnv("LOG_LEVEL", "");
      expect(logSettings().level).toBe("warn");
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
