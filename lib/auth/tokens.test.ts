import { describe, expect, it } from "vitest";
import { AzureOperationError } from "@/lib/azure/errors";
import { readFailure, trackedCredential, type TokenProvider } from "./tokens";

const expired: TokenProvider = () =>
  Promise.resolve({ ok: false, code: "reauth_required", message: "Your Microsoft sign-in has expired. Sign in again to continue." });

describe("tracked credentials", () => {
  it("turns a sign-in failure hidden behind an SDK error into an actionable result", async () => {
    const tracked = trackedCredential(expired, "arm");
    const sdkError = await tracked.credential
      .getToken("https://management.azure.com/.default")
      .catch((e: unknown) => new Error(`wrapped: ${String(e)}`));
    expect(readFailure(sdkError, tracked)).toEqual({
      ok: false,
      code: "reauth_required",
      message: "Your Microsoft sign-in has expired. Sign in again to continue.",
    });
  });

  it("passes Azure errors through as values and rethrows bugs", () => {
    const tracked = trackedCredential(expired, "arm");
    expect(readFailure(new AzureOperationError("forbidden", "You need Reader."), tracked)).toEqual({
      ok: false,
      code: "forbidden",
      message: "You need Reader.",
    });
    expect(() => readFailure(new TypeError("bug"), tracked)).toThrow("bug");
  });
});
