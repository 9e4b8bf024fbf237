// A database failure inside a step (recording an intent) is the engine's interruption to retry, never the step's failure.
import { describe, expect, it, vi } from "vitest";
import { getRunForTenant, listOperations } from "@/lib/db";
import type * as Db from "@/lib/db";
import { executeStep } from "./execute-step";
import { ACTOR, FakeAzure, fakeModules, okTokens, runningRun, setupEngineDb } from "@/test/support/engine";

const failIntents = vi.hoisted(() => ({ remaining: 0, seen: 0 }));

vi.mock("@/lib/db", async (importOriginal) => {
  const actual = await importOriginal<typeof Db>();
  return {
    ...actual,
    recordIntents: (...args: Parameters<typeof actual.recordIntents>) => {
      failIntents.seen += 1;
      if (failIntents.remaining > 0) {
        failIntents.remaining -= 1;
        // What node-postgres throws when PostgreSQL restarts under an open connection.
        return Promise.reject(new Error("Connection terminated unexpectedly"));
      }
      return actual.recordIntents(...args);
    },
  };
});

setupEngineDb("db-failure");

const POLICY = { transientAttempts: 3, transientBaseDelayMs: 10, transientMaxDelayMs: 20 };

async function storageRow(run: { id: string; tenantId: string }) {
  return (await getRunForTenant(run.id, run.tenantId))?.steps.find((s) => s.stepId === "storage");
}

describe("a database error inside a step", () => {
  it("is retried like an interruption, and the step completes once the database answers again", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    failIntents.remaining = 1;
    failIntents.seen = 0;
    const result = await executeStep({
      runId: run.id,
      tenantId: run.tenantId,
      actor: ACTOR,
      tokens: okTokens,
      stepId: "storage",
      modules: fakeModules(azure),
      policy: POLICY,
    });
    expect(result).toMatchObject({ ok: true });
    expect(failIntents.seen).toBe(2);
    // The failed attempt never reached the remote write: one create, logged once.
    expect(azure.creates).toBe(1);
    expect((await listOperations(run.id)).map((o) => o.status)).toEqual(["succeeded"]);
  });

  it("hands the step back as interrupted (resumable), not failed, when the database stays away", async () => {
    const run = await runningRun();
    const azure = new FakeAzure();
    failIntents.remaining = 100;
    const result = await executeStep({
      runId: run.id,
      tenantId: run.tenantId,
      actor: ACTOR,
      tokens: okTokens,
      stepId: "storage",
      modules: fakeModules(azure),
      policy: POLICY,
    });
    failIntents.remaining = 0;
    expect(result).toMatchObject({ ok: false, code: "interrupted", status: "pending" });
    expect(azure.creates).toBe(0);
    expect(await storageRow(run)).toMatchObject({ status: "pending", leaseOwner: null, error: { code: "interrupted" } });

    expect(
      await executeStep({
        runId: run.id,
        tenantId: run.tenantId,
        actor: ACTOR,
        tokens: okTokens,
        stepId: "storage",
        modules: fakeModules(azure),
        policy: POLICY,
      }),
    ).toMatchObject({ ok: true });
  });
});
