import { RestError } from "@azure/core-rest-pipeline";
import { describe, expect, it } from "vitest";
import { AzureOperationError, toAzureError } from "./errors";

const ctx = { action: "list the clusters in Production", requiredRole: "Reader", whoCanGrant: "an Owner of Production" };

function rest(status: number, code: string) {
  return new RestError(`raw body {"error":{"code":"${code}"}}`, { statusCode: status, code });
}

describe("toAzureError", () => {
  it("names the role and who must act on 403, without the raw body", () => {
    const error = toAzureError(rest(403, "AuthorizationFailed"), ctx);
    expect(error.code).toBe("forbidden");
    expect(error.message).toContain("needs Reader");
    expect(error.message).toContain("an Owner of Production");
    expect(error.message).not.toContain("{");
    expect(error.azureCode).toBe("AuthorizationFailed");
  });

  it.each([
    [401, "InvalidAuthenticationToken", "reauth_required"],
    [404, "ResourceNotFound", "not_found"],
    [429, "TooManyRequests", "throttled"],
    [503, "ServiceUnavailable", "unavailable"],
    [409, "Conflict", "conflict"],
    [400, "InvalidRequest", "invalid_request"],
  ] as const)("maps %i %s to %s", (status, code, expected) => {
    expect(toAzureError(rest(status, code), ctx).code).toBe(expected);
  });

  it("maps network failures and unknown throwables", () => {
    expect(toAzureError(Object.assign(new Error("x"), { code: "ECONNREFUSED" }), ctx).code).toBe("unavailable");
    expect(toAzureError("boom", ctx).code).toBe("unknown");
  });

  it("passes domain errors through", () => {
    const original = new AzureOperationError("conflict", "already mapped");
    expect(toAzureError(original, ctx)).toBe(original);
  });
});
