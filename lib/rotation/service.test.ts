import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { acquireStepLease, releaseStepLease, type JsonValue } from "@/lib/db";
import { getRotation, releaseRotation, resumeRotation, startRotation } from "@/lib/db/rotations";
import { setRunStatus } from "@/lib/db/runs";
import { runningRun, setupEngineDb } from "@/test/support/engine";
import { credentialLevels } from "./service";

setupEngineDb("rotation-service");

const DAY = 86_400_000;
const NOW = new Date();

/** A run whose app registration step is done with a secret ending at `expiresAt`. */
async function runWithSecret(expiresAt: Date): Promise<string> {
  const run = await runningRun();
  expect(await acquireStepLease(run.id, "app-registration", "t:1", 60_000)).toBe(true);
  const outputs: JsonValue = {
    applicationObjectId: "o",
    appId: "a",
    servicePrincipalId: "s",
    consentGranted: true,
    secret: { keyId: crypto.randomUUID(), hint: "abc", expiresAt: expiresAt.toISOString() },
  };
  expect(await releaseStepLease(run.id, "app-registration", "t:1", { status: "done", outputs })).toBe(true);
  // A secret is rotated only on a completed run (the rotation's start requires it).
  expect(await setRunStatus(run.id, "completed", { from: ["running"] })).toBe(true);
  return run.id;
}

describe("credentialLevels", () => {
  it("badges runs by their secret's expiry: 31 days none, 30 days warning, past expired; mid-rotation the old secret still counts", async () => {
    const ok = await runWithSecret(new Date(NOW.getTime() + 31 * DAY));
    const soon = await runWithSecret(new Date(NOW.getTime() + 30 * DAY));
    const expired = await runWithSecret(new Date(NOW.getTime() - DAY));
    const rotated = await runWithSecret(new Date(NOW.getTime() - DAY));
    const noStep = (await runningRun()).id;

    const rotation = await startRotation({
      runId: rotated,
      rotationId: crypto.randomUUID(),
      mode: "api",
      old: null,
      startedByUpn: "a@b",
      owner: "o:1",
      ttlMs: 60_000,
    });
    expect(rotation?.status).toBe("running");
    // Mid-rotation the old (expired) secret is still the one in use.
    expect((await credentialLevels([rotated], NOW)).get(rotated)).toBe("expired");

    const levels = await credentialLevels([ok, soon, expired, noStep], NOW);
    expect(Object.fromEntries([ok, soon, expired].map((id) => [id, levels.get(id)]))).toEqual({
      [ok]: "ok",
      [soon]: "warning",
      [expired]: "expired",
    });
    expect(levels.has(noStep)).toBe(false);
  });
});

describe("rotation leases", () => {
  it("start only on a completed run: not once its removal has begun", async () => {
    const runId = await runWithSecret(new Date(NOW.getTime() + 10 * DAY));
    expect(await setRunStatus(runId, "offboarding", { from: ["completed"] })).toBe(true);
    const input = {
      runId,
      rotationId: crypto.randomUUID(),
      mode: "api" as const,
      old: null,
      startedByUpn: "a@b",
      owner: "one",
      ttlMs: 60_000,
    };
    expect(await startRotation(input)).toBeNull();
  });

  it("lets one execution start, refuses a second, and resumes only a failed or lapsed rotation", async () => {
    const runId = await runWithSecret(new Date(NOW.getTime() + 10 * DAY));
    const input = {
      runId,
      rotationId: crypto.randomUUID(),
      mode: "api" as const,
      old: { keyId: "k1", hint: "abc", expiresAt: null },
      startedByUpn: "a@b",
      ttlMs: 60_000,
    };
    const [a, b] = await Promise.all([startRotation({ ...input, owner: "one" }), startRotation({ ...input, owner: "two" })]);
    expect([a, b].filter((r) => r !== null)).toHaveLength(1);
    const winner = a ? "one" : "two";
    expect(await resumeRotation(runId, "three", 60_000)).toBeNull();
    expect(await releaseRotation(runId, "three", { status: "done" })).toBe(false);

    expect(await releaseRotation(runId, winner, { status: "failed", error: { code: "forbidden", message: "needs a role" } })).toBe(true);
    expect(await getRotation(runId)).toMatchObject({
      status: "failed",
      error: { code: "forbidden" },
      leaseOwner: null,
      old: { keyId: "k1" },
    });
    expect(await startRotation({ ...input, owner: "four" })).toBeNull();
    const resumed = await resumeRotation(runId, "four", 1);
    expect(resumed).toMatchObject({ status: "running", leaseOwner: "four", error: null, phase: "started" });
    await new Promise((r) => setTimeout(r, 20));
    // Lapsed: another execution takes over.
    expect(await resumeRotation(runId, "five", 60_000)).toMatchObject({ leaseOwner: "five" });
    expect(await releaseRotation(runId, "five", { status: "done" })).toBe(true);
    // Done: the next rotation starts fresh.
    const next = await startRotation({ ...input, rotationId: crypto.randomUUID(), owner: "six" });
    expect(next).toMatchObject({ status: "running", phase: "started", new: null, finishedAt: null });
  });
});
