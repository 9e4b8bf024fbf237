// How a failed storage name check is told: an unregistered subscription is never "may have been deleted".
import { describe, expect, it } from "vitest";
import { nameCheckError } from "./check-storage-account-name";

describe("nameCheckError", () => {
  it("maps real Azure's 404 SubscriptionNotFound (Microsoft.Storage unregistered) to provider_not_registered", () => {
    const e = nameCheckError({
      statusCode: 404,
      code: "SubscriptionNotFound",
      message: "Subscription 602d1a18-a35e-4b89-a27e-56cb26da2c7b was not found.",
    });
    expect(e.code).toBe("provider_not_registered");
    expect(e.message).toMatch(/not registered for Microsoft\.Storage/);
    expect(e.message).not.toMatch(/deleted/i);
    expect(e.azureCode).toBe("SubscriptionNotFound");
  });

  it("maps 409 MissingSubscriptionRegistration the same way", () => {
    const e = nameCheckError({
      statusCode: 409,
      code: "MissingSubscriptionRegistration",
      message: "The subscription is not registered to use namespace 'Microsoft.Storage'.",
    });
    expect(e.code).toBe("provider_not_registered");
  });

  it("leaves other failures to the general mapping (a 403 names the role)", () => {
    const e = nameCheckError({ statusCode: 403, code: "AuthorizationFailed", message: "no" });
    expect(e.code).toBe("forbidden");
    expect(e.message).toMatch(/checknameavailability\/read/);
  });
});
