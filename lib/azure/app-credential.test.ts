import type { TokenCredential } from "@azure/core-auth";
import { describe, expect, it } from "vitest";
import { acquireFirstToken, classifyAppSignInError, tenantAuthority } from "./app-credential";

const TENANT = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";

function failingThen(failures: string[]): TokenCredential & { calls: number } {
  const cred = {
    calls: 0,
    getToken() {
      const failure = failures[cred.calls++];
      if (failure) return Promise.reject(new Error(failure));
      return Promise.resolve({ token: "t", expiresOnTimestamp: 1 });
    },
  };
  return cred;
}

function fakeClock() {
  let t = 0;
  return { now: () => t, sleep: (ms: number) => Promise.resolve(void (t += ms)) };
}

describe("tenantAuthority", () => {
  it("swaps the last path segment for the tenant", () => {
    expect(tenantAuthority(TENANT, "https://login.microsoftonline.com/organizations")).toBe(`https://login.microsoftonline.com/${TENANT}`);
    expect(tenantAuthority(TENANT, "https://127.0.0.1:9443/organizations/")).toBe(`https://127.0.0.1:9443/${TENANT}`);
    expect(tenantAuthority(TENANT, "https://login.example/base/common")).toBe(`https://login.example/base/${TENANT}`);
  });
});

describe("classifyAppSignInError", () => {
  it("reads AADSTS codes", () => {
    expect(classifyAppSignInError(new Error("invalid_client: AADSTS7000215: Invalid client secret provided."))).toBe("not_yet_valid");
    expect(classifyAppSignInError(new Error("AADSTS700016: Application not found"))).toBe("not_yet_valid");
    expect(classifyAppSignInError(new Error("AADSTS7000222: The provided client secret keys are expired"))).toBe("expired");
    expect(classifyAppSignInError(new Error("network down"))).toBe("other");
  });
});

describe("acquireFirstToken", () => {
  it("retries while the new secret is not yet valid, then succeeds", async () => {
    const cred = failingThen(["AADSTS7000215: Invalid client secret provided.", "AADSTS7000215: Invalid client secret provided."]);
    const result = await acquireFirstToken(cred, "https://management.azure.com/.default", { intervalMs: 5_000, ...fakeClock() });
    expect(result).toMatchObject({ ok: true, attempts: 3, waitedMs: 10_000 });
  });

  it("gives up after the window with a message that says to try again", async () => {
    const cred = failingThen(Array.from({ length: 100 }, () => "AADSTS7000215: Invalid client secret provided."));
    const result = await acquireFirstToken(cred, "x", { timeoutMs: 20_000, intervalMs: 5_000, ...fakeClock() });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure).toBe("not_yet_valid");
    expect(result.attempts).toBe(5); // at 0, 5, 10, 15 and 20 s
    expect(result.message).toMatch(/within two minutes/);
  });

  it("does not retry an expired secret", async () => {
    const cred = failingThen(["AADSTS7000222: expired"]);
    const result = await acquireFirstToken(cred, "x", fakeClock());
    expect(result).toMatchObject({ ok: false, failure: "expired", attempts: 1 });
  });
});
