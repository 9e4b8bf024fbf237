import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { startLeaseHeartbeat, StepStalledError, unlessStalled } from "./heartbeat";

// Fake timers and clock: the beats and the stall bound are about elapsed time, which a busy CI machine stretches.
describe("startLeaseHeartbeat", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("renews every third of the TTL for as long as the work makes progress, past the stall bound", async () => {
    let renewals = 0;
    const hb = startLeaseHeartbeat(async () => ++renewals > 0, 60, { stallMs: 100 });
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(30);
      hb.touch();
    }
    await hb.stop();
    expect(hb.stalled).toBe(false);
    expect(hb.signal.aborted).toBe(false);
    // 300 ms at one beat per 20 ms.
    expect(renewals).toBe(15);
  });

  it("stops renewing once the work made no progress for longer than the bound, and aborts its signal", async () => {
    let renewals = 0;
    const hb = startLeaseHeartbeat(async () => ++renewals > 0, 60, { stallMs: 100 });
    const cutOff = expect(unlessStalled(hb, new Promise<never>(() => {}))).rejects.toBeInstanceOf(StepStalledError);
    await vi.advanceTimersByTimeAsync(250);
    expect(hb.stalled).toBe(true);
    expect(hb.signal.reason).toBeInstanceOf(StepStalledError);
    await cutOff;
    // Beats at 20…100 ms renew; the one at 120 ms finds 120 ms without progress and aborts instead.
    expect(renewals).toBe(5);
    await vi.advanceTimersByTimeAsync(150);
    expect(renewals).toBe(5);
    await hb.stop();
  });

  it("without a bound renews until stopped, however idle the work", async () => {
    let renewals = 0;
    const hb = startLeaseHeartbeat(async () => ++renewals > 0, 30);
    await vi.advanceTimersByTimeAsync(200);
    await hb.stop();
    expect(hb.stalled).toBe(false);
    expect(renewals).toBe(20);
  });

  it("gives the lease up at the first renewal that finds it someone else's", async () => {
    let renewals = 0;
    const hb = startLeaseHeartbeat(async () => ++renewals < 3, 30);
    await vi.advanceTimersByTimeAsync(200);
    expect(hb.lost).toBe(true);
    expect(renewals).toBe(3);
    await hb.stop();
  });

  it("keeps beating through a renewal that throws", async () => {
    let renewals = 0;
    const hb = startLeaseHeartbeat(async () => {
      if (++renewals === 2) throw new Error("connection reset");
      return true;
    }, 30);
    await vi.advanceTimersByTimeAsync(100);
    expect(hb.lost).toBe(false);
    expect(renewals).toBe(10);
    await hb.stop();
  });
});
