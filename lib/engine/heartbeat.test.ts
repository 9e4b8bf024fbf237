import { describe, expect, it } from "vitest";
import { startLeaseHeartbeat, StepStalledError, unlessStalled } from "./heartbeat";
import { realSleep } from "@/test/support/engine";

describe("startLeaseHeartbeat", () => {
  it("renews every third of the TTL for as long as the work makes progress, past the stall bound", async () => {
    let renewals = 0;
    const hb = startLeaseHeartbeat(async () => ++renewals > 0, 60, { stallMs: 100 });
    for (let i = 0; i < 10; i++) {
      await realSleep(30);
      hb.touch();
    }
    await hb.stop();
    expect(hb.stalled).toBe(false);
    expect(hb.signal.aborted).toBe(false);
    expect(renewals).toBeGreaterThanOrEqual(6);
  });

  it("stops renewing once the work made no progress for longer than the bound, and aborts its signal", async () => {
    let renewals = 0;
    const hb = startLeaseHeartbeat(async () => ++renewals > 0, 60, { stallMs: 100 });
    const cutOff = expect(unlessStalled(hb, new Promise<never>(() => {}))).rejects.toBeInstanceOf(StepStalledError);
    await realSleep(250);
    expect(hb.stalled).toBe(true);
    expect(hb.signal.reason).toBeInstanceOf(StepStalledError);
    await cutOff;
    const atStall = renewals;
    // Within the bound only: at most 100 ms / 20 ms beats plus the one that noticed.
    expect(atStall).toBeLessThanOrEqual(6);
    await realSleep(150);
    expect(renewals).toBe(atStall);
    await hb.stop();
  });

  it("without a bound renews until stopped, however idle the work", async () => {
    let renewals = 0;
    const hb = startLeaseHeartbeat(async () => ++renewals > 0, 30);
    await realSleep(200);
    await hb.stop();
    expect(hb.stalled).toBe(false);
    expect(renewals).toBeGreaterThanOrEqual(10);
  });
});
