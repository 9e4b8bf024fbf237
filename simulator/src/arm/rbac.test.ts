import { describe, expect, it } from "vitest";
import { BUILTIN_ROLES } from "../contract";
import { actionMatches, permissionAllows, scopeContains } from "./rbac";
import { isPlausibleCondition } from "./role-assignments";
import { isValidIpRule } from "./storage-accounts";

const perms = (name: keyof typeof BUILTIN_ROLES) => {
  const r = BUILTIN_ROLES[name];
  return [{ actions: [...r.actions], notActions: [...r.notActions], dataActions: [...r.dataActions], notDataActions: [] }];
};

describe("action wildcards", () => {
  it("matches like Azure: *, */read, namespace/*, case-insensitive", () => {
    expect(actionMatches("*", "Microsoft.Storage/storageAccounts/write")).toBe(true);
    expect(actionMatches("*/read", "Microsoft.ContainerService/managedClusters/read")).toBe(true);
    expect(actionMatches("*/read", "Microsoft.Storage/storageAccounts/listkeys/action")).toBe(false);
    expect(actionMatches("Microsoft.Authorization/*", "microsoft.authorization/roleassignments/write")).toBe(true);
    expect(actionMatches("Microsoft.Authorization/*/Write", "Microsoft.Authorization/roleDefinitions/write")).toBe(true);
    expect(actionMatches("Microsoft.Storage/*/read", "Microsoft.Storage/storageAccounts/read")).toBe(true);
    expect(actionMatches("Microsoft.Storage/*/read", "Microsoft.Insights/diagnosticSettings/read")).toBe(false);
  });

  it("applies notActions: Contributor can't write role assignments, Owner and UAA can", () => {
    expect(permissionAllows(perms("Contributor"), "Microsoft.Storage/storageAccounts/write")).toBe(true);
    expect(permissionAllows(perms("Contributor"), "Microsoft.Authorization/roleAssignments/write")).toBe(false);
    expect(permissionAllows(perms("Owner"), "Microsoft.Authorization/roleAssignments/write")).toBe(true);
    expect(permissionAllows(perms("User Access Administrator"), "Microsoft.Authorization/roleDefinitions/write")).toBe(true);
    expect(permissionAllows(perms("Role Based Access Control Administrator"), "Microsoft.Authorization/roleDefinitions/write")).toBe(false);
    expect(permissionAllows(perms("Reader"), "Microsoft.Storage/storageAccounts/listkeys/action")).toBe(false);
    expect(
      permissionAllows(perms("Storage Blob Data Reader"), "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", true),
    ).toBe(true);
  });

  it("contains child scopes only on segment boundaries", () => {
    expect(scopeContains("/subscriptions/a", "/subscriptions/a/resourceGroups/rg")).toBe(true);
    expect(scopeContains("/subscriptions/a", "/subscriptions/ab")).toBe(false);
    expect(scopeContains("/", "/subscriptions/a")).toBe(true);
    expect(scopeContains("/subscriptions/A/resourceGroups/RG", "/subscriptions/a/resourcegroups/rg/providers/x/y/z")).toBe(true);
  });
});

describe("request validation helpers", () => {
  it("accepts plausible ABAC conditions and rejects broken ones", () => {
    expect(
      isPlausibleCondition(
        "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND NOT SubOperationMatches{'Blob.List'})) OR (@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'acct'))",
      ),
    ).toBe(true);
    expect(
      isPlausibleCondition(
        "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'insights-logs-kube-audit'",
      ),
    ).toBe(true);
    expect(isPlausibleCondition("((@Resource[x StringEquals 'a'")).toBe(false);
    expect(isPlausibleCondition("name == 'a'")).toBe(false);
    expect(isPlausibleCondition("(@Resource[a:b] StringEquals 'it''s')")).toBe(true);
  });

  it("allows public IPv4 and ranges up to /30 in storage IP rules", () => {
    expect(isValidIpRule("203.0.113.7")).toBe(true);
    expect(isValidIpRule("198.51.100.0/24")).toBe(true);
    expect(isValidIpRule("203.0.113.7/32")).toBe(false);
    expect(isValidIpRule("203.0.113.6/31")).toBe(false);
    for (const privateIp of ["10.0.0.1", "172.16.5.4", "172.31.255.255", "192.168.1.0/24", "127.0.0.1", "169.254.1.1", "100.64.0.1"])
      expect(isValidIpRule(privateIp)).toBe(false);
    expect(isValidIpRule("172.32.0.1")).toBe(true);
    expect(isValidIpRule("2001:db8::1")).toBe(false);
    expect(isValidIpRule("256.1.1.1")).toBe(false);
  });
});
