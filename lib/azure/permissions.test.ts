import { describe, expect, it } from "vitest";
import { allowsAction, scopeCovers } from "./permissions";

const write = "Microsoft.Authorization/roleAssignments/write";

describe("allowsAction", () => {
  it("follows Azure's wildcards and notActions", () => {
    expect(allowsAction({ actions: ["*"], notActions: [] }, write)).toBe(true);
    expect(allowsAction({ actions: ["*"], notActions: ["Microsoft.Authorization/*/Write"] }, write)).toBe(false);
    expect(allowsAction({ actions: ["*/read"], notActions: [] }, write)).toBe(false);
    expect(allowsAction({ actions: ["Microsoft.Authorization/*"], notActions: [] }, write)).toBe(true);
    expect(allowsAction({ actions: ["microsoft.authorization/roleassignments/WRITE"], notActions: [] }, write)).toBe(true);
  });
});

describe("scopeCovers", () => {
  const sub = "/subscriptions/11111111-1111-1111-1111-111111111111";
  it("accepts the same scope, ancestors and management groups, not children", () => {
    expect(scopeCovers(sub, sub)).toBe(true);
    expect(scopeCovers("/", sub)).toBe(true);
    expect(scopeCovers("/providers/Microsoft.Management/managementGroups/root", sub)).toBe(true);
    expect(scopeCovers(`${sub}/resourceGroups/rg`, sub)).toBe(false);
    expect(scopeCovers(sub.toUpperCase(), sub)).toBe(true);
  });
});
