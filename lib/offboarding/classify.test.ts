import { describe, expect, it } from "vitest";
import type { Operation } from "@/lib/db/operations";
import { classifyOperations, offboardingKeys } from "./classify";

let seq = 0;
function op(key: string, kind: Operation["kind"], status: Operation["status"], extra: Partial<Operation> = {}): Operation {
  seq += 1;
  return {
    id: String(seq),
    runId: "r",
    stepId: key.split(/[.:]/)[0] ?? "x",
    key,
    kind,
    target: `target of ${key}`,
    status,
    resourceId: status === "succeeded" ? `id-${seq}` : null,
    requestId: null,
    errorCode: status === "failed" ? "unavailable" : null,
    errorMessage: null,
    startedAt: new Date(),
    completedAt: status === "intent" ? null : new Date(),
    actorUpn: "a@b",
    ...extra,
  };
}

const ACCOUNT = "storage.account:/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a";

describe("classifyOperations", () => {
  it("a succeeded create is created, with the resource id of that write and the step that wrote it", () => {
    const [c] = classifyOperations([op(ACCOUNT, "create", "succeeded"), op(ACCOUNT, "update", "succeeded")], "offboarding");
    expect(c).toMatchObject({ key: ACCOUNT, stepId: "storage", provenance: "created", kinds: ["create", "update"] });
    expect(c?.resourceId).toMatch(/^id-/);
  });

  it("an intent without outcome, or a failed create, is uncertain: the step's removal reads Azure to decide", () => {
    expect(classifyOperations([op(ACCOUNT, "create", "intent")], "offboarding")[0]?.provenance).toBe("uncertain");
    expect(classifyOperations([op(ACCOUNT, "create", "failed")], "offboarding")[0]).toMatchObject({
      provenance: "uncertain",
      resourceId: null,
    });
  });

  it("adopted, updated and registered writes are kept, in the log's order", () => {
    const out = classifyOperations(
      [
        op(ACCOUNT, "update", "succeeded"),
        op("custom-role.put:abc", "update", "succeeded"),
        op("storage.register:/subscriptions/s/providers/Microsoft.Insights", "register", "succeeded"),
        op(ACCOUNT.replace("storage.account", "storage.network"), "adopt", "succeeded"),
      ],
      "offboarding",
    );
    expect(out.map((c) => [c.stepId, c.provenance])).toEqual([
      ["storage", "kept"],
      ["custom-role", "kept"],
      ["storage", "kept"],
      ["storage", "kept"],
    ]);
  });

  it("ignores offboarding's own deletes", () => {
    expect(
      classifyOperations([op(offboardingKeys.delete(ACCOUNT), "delete", "succeeded", { stepId: "offboarding" })], "offboarding"),
    ).toEqual([]);
  });

  it("reads back the item key of offboarding's own log key, and nothing from any other key", () => {
    expect(offboardingKeys.delete(ACCOUNT)).toBe(`offboarding.delete:${ACCOUNT}`);
    expect(offboardingKeys.removedItemOf(offboardingKeys.delete(ACCOUNT))).toBe(ACCOUNT);
    expect(offboardingKeys.removedItemOf(ACCOUNT)).toBeNull();
  });
});
