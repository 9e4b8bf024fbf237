import { describe, expect, it } from "vitest";
import { customRoleId, PROJECT_NAMESPACE, roleAssignmentName, uuidV5 } from "./names";

const DNS_NAMESPACE = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
const URL_NAMESPACE = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";

describe("uuidV5", () => {
  it("matches known RFC 4122 vectors", () => {
    expect(uuidV5("www.example.com", DNS_NAMESPACE)).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
    expect(uuidV5("python.org", DNS_NAMESPACE)).toBe("886313e1-3b8a-5372-9b90-0c9aee199e5d");
    expect(uuidV5("http://example.com/", URL_NAMESPACE)).toBe("0a300ee9-f9e4-5697-a51a-efc7fafaba67");
  });

  it("sets version 5 and the RFC variant", () => {
    const id = uuidV5("anything", PROJECT_NAMESPACE);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("refuses a namespace that is not a UUID", () => {
    expect(() => uuidV5("x", "not-a-uuid")).toThrow(/namespace/);
  });
});

describe("roleAssignmentName", () => {
  const scope = "/subscriptions/602d1a18-a35e-4b89-a27e-56cb26da2c7b";
  const principal = "0b7f2c1e-8a40-4f55-9d2e-3c1a5b6d7e8f";
  const role = "73c42c96-874c-492b-b04d-ab87d138a893";

  it("is stable and ignores case and a trailing slash", () => {
    const a = roleAssignmentName(scope, principal, role);
    expect(a).toBe(uuidV5(`${scope}|${principal}|${role}`, PROJECT_NAMESPACE));
    expect(roleAssignmentName(`${scope.toUpperCase()}/`, principal.toUpperCase(), role.toUpperCase())).toBe(a);
  });

  it("differs per scope, principal and role", () => {
    const a = roleAssignmentName(scope, principal, role);
    expect(roleAssignmentName(`${scope}/resourceGroups/rg`, principal, role)).not.toBe(a);
    expect(roleAssignmentName(scope, role, principal)).not.toBe(a);
    expect(roleAssignmentName(scope, principal, "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1")).not.toBe(a);
  });
});

describe("customRoleId", () => {
  it("depends on the tenant (case-insensitive) and the role key", () => {
    const tenant = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";
    const id = customRoleId(tenant, "aks-audit-reader");
    expect(id).toBe(customRoleId(tenant.toUpperCase(), "aks-audit-reader"));
    expect(customRoleId("11111111-1111-1111-1111-111111111111", "aks-audit-reader")).not.toBe(id);
    expect(customRoleId(tenant, "other")).not.toBe(id);
  });
});
