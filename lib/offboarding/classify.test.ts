import { describe, expect, it } from "vitest";
import type { Operation } from "@/lib/db/operations";
import { categoryOfKey, classifyOperations } from "./classify";

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
  it("a succeeded create is created, with the resource id of that write", () => {
    const [c] = classifyOperations([op(ACCOUNT, "create", "succeeded"), op(ACCOUNT, "update", "succeeded")], "offboarding");
    expect(c).toMatchObject({ key: ACCOUNT, category: "storage-account", provenance: "created" });
    expect(c?.resourceId).toMatch(/^id-/);
  });

  it("an intent without outcome, or a failed create, is uncertain: the plan reads Azure to decide", () => {
    expect(classifyOperations([op(ACCOUNT, "create", "intent")], "offboarding")[0]?.provenance).toBe("uncertain");
    expect(classifyOperations([op(ACCOUNT, "create", "failed")], "offboarding")[0]?.provenance).toBe("uncertain");
  });

  it("adopted and updated resources, provider registrations and the shared Log Analytics principal are kept, with why", () => {
    const out = classifyOperations(
      [
        op(ACCOUNT, "update", "succeeded"),
        op("custom-role.put:abc", "update", "succeeded"),
        op("storage.register:/subscriptions/s/providers/Microsoft.Insights", "register", "succeeded"),
        op("app-registration.log-analytics-service-principal:ca7f", "create", "succeeded"),
      ],
      "offboarding",
    );
    expect(out.map((c) => c.provenance)).toEqual(["kept", "kept", "kept", "kept"]);
    expect(out[0]?.keptReason).toMatch(/only updated/);
    expect(out[2]?.keptReason).toMatch(/subscription-wide/);
    expect(out[3]?.keptReason).toMatch(/shared/);
  });

  it("ignores offboarding's own deletes", () => {
    expect(
      classifyOperations([op(`offboarding.delete:${ACCOUNT}`, "delete", "succeeded", { stepId: "offboarding" })], "offboarding"),
    ).toEqual([]);
  });

  it("knows every key prefix the steps log", () => {
    expect(categoryOfKey("role-assignments.abc:/subscriptions/s")).toBe("role-assignment");
    expect(categoryOfKey("workbench-handoff.device:aks-onboarding r")).toBe("workbench-device");
    expect(categoryOfKey("app-registration.consent:x/Data.Read")).toBe("consent");
    expect(categoryOfKey("storage.network:/x")).toBeNull();
    expect(categoryOfKey("something.else:/x")).toBeUndefined();
  });
});
