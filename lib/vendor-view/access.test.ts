import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { SessionWithUser } from "@/lib/db/sessions";
import { parseEnv } from "@/lib/env";
import { isVendorTenantSession } from "./access";

const VENDOR = "e7e1d5a0-3c4b-4f7e-9d2a-5b6c7d8e9f01";
const CONTOSO = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";

function sessionOf(tenantId: string): SessionWithUser {
  const now = new Date();
  return {
    tokenHash: "h",
    userId: "u",
    homeAccountId: "a",
    tokenCache: "",
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now,
    user: { id: "u", tenantId, objectId: "o", upn: "someone@example.com", displayName: "Someone", createdAt: now, lastSignInAt: now },
  };
}

describe("isVendorTenantSession", () => {
  it("admits a session of the configured vendor tenant, whatever the id's case", () => {
    expect(isVendorTenantSession(VENDOR, sessionOf(VENDOR))).toBe(true);
    expect(isVendorTenantSession(VENDOR.toUpperCase(), sessionOf(VENDOR))).toBe(true);
  });

  it("refuses customer admins, the signed-out, and everyone when no vendor tenant is configured", () => {
    expect(isVendorTenantSession(VENDOR, sessionOf(CONTOSO))).toBe(false);
    expect(isVendorTenantSession(VENDOR, null)).toBe(false);
    expect(isVendorTenantSession(undefined, sessionOf(VENDOR))).toBe(false);
    expect(isVendorTenantSession("", sessionOf(""))).toBe(false);
  });
});

describe("VENDOR_TENANT_ID", () => {
  const base = { ENCRYPTION_KEY: randomBytes(32).toString("base64"), ENTRA_CLIENT_ID: VENDOR, ENTRA_CLIENT_SECRET: "s" };

  it("is optional: unset means there is no vendor view", () => {
    expect(parseEnv(base).VENDOR_TENANT_ID).toBeUndefined();
    expect(parseEnv({ ...base, VENDOR_TENANT_ID: "" }).VENDOR_TENANT_ID).toBeUndefined();
  });

  it("must be a tenant id", () => {
    expect(parseEnv({ ...base, VENDOR_TENANT_ID: VENDOR }).VENDOR_TENANT_ID).toBe(VENDOR);
    expect(() => parseEnv({ ...base, VENDOR_TENANT_ID: "expel.onmicrosoft.com" })).toThrow(/VENDOR_TENANT_ID/);
  });
});
