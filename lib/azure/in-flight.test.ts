import { describe, expect, it } from "vitest";
import { InFlightLimit } from "./in-flight";

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("InFlightLimit", () => {
  it("runs at most `limit` calls at once, the rest in arrival order, and frees every slot", async () => {
    const limit = new InFlightLimit(2);
    const started: number[] = [];
    const release = new Map<number, () => void>();
    let peak = 0;
    const calls = [0, 1, 2, 3, 4].map((i) =>
      limit.run(async () => {
        started.push(i);
        peak = Math.max(peak, limit.inFlight);
        await new Promise<void>((resolve) => release.set(i, resolve));
        return i * 10;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    expect(limit.queued).toBe(3);
    release.get(1)?.();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    release.get(0)?.();
    release.get(2)?.();
    await tick();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    release.get(3)?.();
    release.get(4)?.();
    expect(await Promise.all(calls)).toEqual([0, 10, 20, 30, 40]);
    expect(peak).toBe(2);
    expect(limit.inFlight).toBe(0);
    expect(limit.queued).toBe(0);
  });

  it("frees the slot of a call that throws", async () => {
    const limit = new InFlightLimit(1);
    await expect(limit.run(() => Promise.reject(new Error("refused")))).rejects.toThrow("refused");
    expect(await limit.run(() => Promise.resolve("next"))).toBe("next");
    expect(limit.inFlight).toBe(0);
  });

  it("refuses a limit below one", () => {
    expect(() => new InFlightLimit(0)).toThrow(RangeError);
  });
});
