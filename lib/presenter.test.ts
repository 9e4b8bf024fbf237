import { describe, expect, it } from "vitest";
import { maskId, maskText, parsePresentParam } from "./presenter";

const TENANT = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";
const SUB = "2b7c5a4e-0f4d-4d8e-9d7b-1f6c3a2e9b10";

describe("maskId", () => {
  it("keeps the first and last four characters of a GUID", () => {
    expect(maskId(TENANT)).toBe("c88c…e8fc");
    expect(maskId(TENANT.toUpperCase())).toBe("C88C…E8FC");
  });

  it("masks only the GUID segments of an ARM id", () => {
    expect(maskId(`/subscriptions/${SUB}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-prod`)).toBe(
      "/subscriptions/2b7c…9b10/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-prod",
    );
    expect(maskId(`/subscriptions/${SUB}/providers/Microsoft.Authorization/roleAssignments/${TENANT}`)).toBe(
      "/subscriptions/2b7c…9b10/providers/Microsoft.Authorization/roleAssignments/c88c…e8fc",
    );
  });

  it("masks other ids too, never returning them whole", () => {
    expect(maskId("app-client-id-42")).toBe("app-…d-42");
    expect(maskId("short")).toBe("…");
    expect(maskId("")).toBe("…");
  });
});

describe("maskText", () => {
  it("masks every GUID in free text and leaves the rest", () => {
    expect(maskText(`scopes: +/subscriptions/${SUB}, tenant ${TENANT}.`)).toBe("scopes: +/subscriptions/2b7c…9b10, tenant c88c…e8fc.");
    expect(maskText("stauditeastus01 in eastus")).toBe("stauditeastus01 in eastus");
  });

  it("masks GUIDs glued to other text, such as URL fragments and element ids", () => {
    expect(maskText(`#@${TENANT}/resource`)).toBe("#@c88c…e8fc/resource");
    expect(maskText(`sub-${SUB}x`)).toBe("sub-2b7c…9b10x");
    expect(maskText(`0${TENANT}0`)).not.toContain(TENANT);
  });

  it("is stable when applied twice", () => {
    const once = maskText(`/subscriptions/${SUB}`);
    expect(maskText(once)).toBe(once);
  });
});

describe("parsePresentParam", () => {
  it("reads 1 and 0 and nothing else", () => {
    expect(parsePresentParam("1")).toBe(true);
    expect(parsePresentParam("0")).toBe(false);
    expect(parsePresentParam("yes")).toBeNull();
    expect(parsePresentParam(null)).toBeNull();
  });
});
