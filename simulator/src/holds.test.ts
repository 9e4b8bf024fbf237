// Hold rules: the Nth matching request is paused before or after it is applied, and reported so a test can kill its caller.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningSimulator } from "./index";
import { simJson, simToken, startTestSimulator } from "./testing";

const OWNER = "owner@contoso.onmicrosoft.com";
const SUB = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
const RG_PATH = `/subscriptions/${SUB}/resourcegroups/rg-hold-test`;
let sim: RunningSimulator;
let arm: string;

beforeAll(async () => {
  sim = await startTestSimulator();
  arm = await simToken(sim, { upn: OWNER, resource: "arm" });
});
afterAll(async () => {
  await sim?.close();
});
beforeEach(async () => {
  await simJson(sim, "POST", "/_sim/reset");
});

const putRg = () => simJson(sim, "PUT", `${RG_PATH}?api-version=2025-04-01`, { token: arm, body: { location: "eastus" } });
const rgExists = () => sim.state().getArm(RG_PATH) !== undefined;
const holds = async () =>
  (await simJson(sim, "GET", "/_sim/holds")).body.holds as {
    name: string;
    seen: number;
    heldAt: string | null;
    releasedAt: string | null;
  }[];

describe("hold rules", () => {
  it("holds the response of the Nth match after applying it, and reports when it is held", async () => {
    const set = await simJson(sim, "POST", "/_sim/holds", {
      body: { rules: [{ name: "rg", method: "put", path: "/resourcegroups/rg-hold-test$", nth: 2, phase: "after", ms: 60_000 }] },
    });
    expect(set.status).toBe(200);
    expect((await putRg()).status).toBeLessThan(300);
    expect((await holds())[0]).toMatchObject({ seen: 1, heldAt: null });
    const pending = putRg();
    await expect.poll(async () => (await holds())[0]?.heldAt ?? null).not.toBeNull();
    // Applied before the hold: the resource exists while the caller is still waiting.
    expect(rgExists()).toBe(true);
    expect((await simJson(sim, "DELETE", "/_sim/holds")).status).toBe(204);
    expect((await pending).status).toBeLessThan(300);
  });

  it("holds before applying: nothing changes until the hold ends", async () => {
    await simJson(sim, "POST", "/_sim/holds", {
      body: { rules: [{ name: "rg", method: "PUT", path: "rg-hold-test", phase: "before", ms: 400 }] },
    });
    const pending = putRg();
    await expect.poll(async () => (await holds())[0]?.heldAt ?? null).not.toBeNull();
    expect(rgExists()).toBe(false);
    expect((await pending).status).toBeLessThan(300);
    expect(rgExists()).toBe(true);
    expect((await holds())[0]?.releasedAt).not.toBeNull();
  });

  it("rejects an invalid rule and a reset drops the rules", async () => {
    const bad = await simJson(sim, "POST", "/_sim/holds", { body: { rules: [{ name: "x", method: "PUT", path: "(" }] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("InvalidHolds");
    await simJson(sim, "POST", "/_sim/holds", { body: { rules: [{ name: "rg", method: "PUT", path: "x" }] } });
    await simJson(sim, "POST", "/_sim/reset");
    expect(await holds()).toEqual([]);
  });
});
