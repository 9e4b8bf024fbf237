import { describe, expect, it } from "vitest";
import { AzureOperationError } from "@/lib/azure/errors";
import { retryWriteOnReplication } from "./replication-retry";
import type { StepContext } from "./types";

const lag = () => new AzureOperationError("role_definition_not_found", "Azure does not show the custom role yet.");

function ctxWith(waitForReplication?: (retry: number) => Promise<boolean>): StepContext {
  return { ...(waitForReplication ? { waitForReplication } : {}) } as unknown as StepContext;
}

describe("retryWriteOnReplication", () => {
  it("retries only the write, waiting through the engine before each retry", async () => {
    const waits: number[] = [];
    const tries: number[] = [];
    const result = await retryWriteOnReplication(
      ctxWith(async (retry) => {
        waits.push(retry);
        return true;
      }),
      async (tryNumber) => {
        tries.push(tryNumber);
        if (tryNumber < 3) throw lag();
        return "made";
      },
    );
    expect([result, tries, waits]).toEqual(["made", [1, 2, 3], [1, 2]]);
  });

  it("keeps trying at the second backoff step instead of doubling the wait", async () => {
    const waits: number[] = [];
    const result = await retryWriteOnReplication(
      ctxWith(async (retry) => {
        waits.push(retry);
        return true;
      }),
      async (tryNumber) => {
        if (tryNumber < 6) throw lag();
        return tryNumber;
      },
    );
    expect([result, waits]).toEqual([6, [1, 2, 2, 2, 2]]);
  });

  it("rethrows when the budget is spent, without an in-step wait, and on anything but replication", async () => {
    await expect(
      retryWriteOnReplication(
        ctxWith(async () => false),
        () => Promise.reject(lag()),
      ),
    ).rejects.toMatchObject({ code: "role_definition_not_found" });
    await expect(retryWriteOnReplication(ctxWith(), () => Promise.reject(lag()))).rejects.toMatchObject({
      code: "role_definition_not_found",
    });
    let waited = false;
    const forbidden = new AzureOperationError("forbidden", "You don't have permission.");
    const waiting = ctxWith(async () => {
      waited = true;
      return true;
    });
    await expect(retryWriteOnReplication(waiting, () => Promise.reject(forbidden))).rejects.toBe(forbidden);
    expect(waited).toBe(false);
  });
});
