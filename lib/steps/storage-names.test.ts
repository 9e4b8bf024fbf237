import { describe, expect, it } from "vitest";
import { STORAGE_ACCOUNT_NAME, suggestStorageAccountName } from "./storage-names";

const tenant = "8a9c2f4e-1b3d-4c5e-9f60-7a8b9c0d1e2f";

describe("suggestStorageAccountName", () => {
  it("is valid, readable and stable for a tenant and region", () => {
    const name = suggestStorageAccountName(tenant, "westeurope");
    expect(name).toMatch(STORAGE_ACCOUNT_NAME);
    expect(name.startsWith("kubeauditweu")).toBe(true);
    expect(suggestStorageAccountName(tenant.toUpperCase(), "WestEurope")).toBe(name);
  });

  it("differs per region, tenant and attempt", () => {
    const base = suggestStorageAccountName(tenant, "eastus");
    expect(suggestStorageAccountName(tenant, "eastus2")).not.toBe(base);
    expect(suggestStorageAccountName("00000000-0000-0000-0000-000000000001", "eastus")).not.toBe(base);
    expect(suggestStorageAccountName(tenant, "eastus", 1)).not.toBe(base);
  });

  it("stays within 24 characters for unknown long regions", () => {
    expect(suggestStorageAccountName(tenant, "brazilsoutheast-extra")).toMatch(STORAGE_ACCOUNT_NAME);
  });
});
