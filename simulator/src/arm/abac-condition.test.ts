// ABAC condition evaluation: the portal's condition shape, Azure's aliases, and deny on anything unsupported.
import { describe, expect, it } from "vitest";
import { conditionAllows, parseCondition } from "./abac-condition";

const READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
const WRITE = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write";
// Exactly what lib/steps/abac.ts writes for two accounts.
const PORTAL = `((!(ActionMatches{'${READ}'})) OR (@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'audita' OR @Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'auditb'))`;

describe("conditionAllows", () => {
  it("lets reads through on the named accounts only", () => {
    expect(conditionAllows(PORTAL, { action: READ, accountName: "audita" })).toBe(true);
    expect(conditionAllows(PORTAL, { action: READ, accountName: "auditb" })).toBe(true);
    expect(conditionAllows(PORTAL, { action: READ, accountName: "payroll" })).toBe(false);
  });

  it("does not restrict actions the condition doesn't target", () => {
    expect(conditionAllows(PORTAL, { action: WRITE, accountName: "payroll" })).toBe(true);
  });

  it("compares names case-sensitively (StringEquals) and actions case-insensitively", () => {
    expect(conditionAllows(PORTAL, { action: READ, accountName: "AUDITA" })).toBe(false);
    expect(conditionAllows(PORTAL, { action: READ.toLowerCase(), accountName: "audita" })).toBe(true);
  });

  it("accepts && / || and container names", () => {
    const c = `(!(ActionMatches{'${READ}'}) || (@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'a1' && @Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals 'logs'))`;
    expect(conditionAllows(c, { action: READ, accountName: "a1", containerName: "logs" })).toBe(true);
    expect(conditionAllows(c, { action: READ, accountName: "a1", containerName: "other" })).toBe(false);
    expect(conditionAllows(c, { action: READ, accountName: "a1" })).toBe(false);
  });

  it("has no effect without a condition", () => {
    expect(conditionAllows(undefined, { action: READ, accountName: "x" })).toBe(true);
    expect(conditionAllows(null, { action: READ, accountName: "x" })).toBe(true);
  });

  it("denies on anything outside the supported grammar", () => {
    for (const bad of [
      `@Resource[Microsoft.Storage/storageAccounts:name] StringLike 'a*'`,
      `@Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringEquals 'x'`,
      `(@Resource[Microsoft.Storage/storageAccounts:name] StringEquals 'a'`,
      `@Resource[Microsoft.Storage/storageAccounts:tags] StringEquals 'a'`,
      `SubOperationMatches{'Blob.List'}`,
      `ActionMatches{'${READ}'} OR`,
      "",
      "garbage",
    ]) {
      if (bad) expect(parseCondition(bad), bad).toBeUndefined();
      expect(conditionAllows(bad || " x ", { action: READ, accountName: "a" }), bad).toBe(false);
    }
  });
});
