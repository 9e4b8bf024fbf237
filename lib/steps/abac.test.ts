import { describe, expect, it } from "vitest";
import { blobReadCondition } from "./abac";

describe("blobReadCondition", () => {
  it("is exactly the documented condition for one account", () => {
    expect(blobReadCondition(["kubeauditeus1"])).toBe(
      "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR (@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'kubeauditeus1'))",
    );
  });

  it("allows each of several accounts, in a stable order", () => {
    const c = blobReadCondition(["zeta123", "alpha123", "zeta123"]);
    expect(c).toBe(
      "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'})) OR (@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'alpha123' OR @Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'zeta123'))",
    );
  });

  it("refuses empty lists and anything that could break out of the quotes", () => {
    expect(() => blobReadCondition([])).toThrow();
    expect(() => blobReadCondition(["a' OR 'b"])).toThrow(/Not a storage account name/);
  });
});
