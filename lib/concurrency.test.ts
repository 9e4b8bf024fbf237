import { describe, expect, it } from "vitest";
import { mapBounded, mapPerGroupSettled } from "./concurrency";

describe("mapBounded", () => {
  it("keeps order and never exceeds the limit", async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 4, 2, 3], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n * 3));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30]);
    expect(peak).toBe(2);
  });

  it("handles an empty list", async () => {
    expect(await mapBounded([], 3, async () => 1)).toEqual([]);
  });
});

describe("mapPerGroupSettled", () => {
  it("runs every group at once, bounded within each, and keeps input order", async () => {
    const inFlight = new Map<string, number>();
    const peak = new Map<string, number>();
    let total = 0;
    let totalPeak = 0;
    const items = ["a1", "b1", "a2", "c1", "a3", "b2", "a4"];
    const out = await mapPerGroupSettled(
      items,
      (s) => s.charAt(0).toUpperCase(),
      2,
      async (s, i) => {
        const g = s.charAt(0);
        inFlight.set(g, (inFlight.get(g) ?? 0) + 1);
        peak.set(g, Math.max(peak.get(g) ?? 0, inFlight.get(g) ?? 0));
        totalPeak = Math.max(totalPeak, ++total);
        await new Promise((r) => setTimeout(r, 5));
        inFlight.set(g, (inFlight.get(g) ?? 0) - 1);
        total--;
        return `${s}#${i}`;
      },
    );
    expect(out).toEqual(items.map((s, i) => `${s}#${i}`));
    expect(peak.get("a")).toBe(2);
    expect(peak.get("b")).toBe(2);
    // a (2) + b (2) + c (1) side by side: groups don't wait for each other.
    expect(totalPeak).toBe(5);
  });

  it("lets every call settle, then throws the first failure in input order", async () => {
    const finished: string[] = [];
    const run = mapPerGroupSettled(
      ["x1", "y1", "x2"],
      (s) => s.charAt(0),
      1,
      async (s) => {
        await new Promise((r) => setTimeout(r, s === "x1" ? 10 : 1));
        finished.push(s);
        if (s !== "y1") throw new Error(`failed ${s}`);
        return s;
      },
    );
    await expect(run).rejects.toThrow("failed x1");
    expect(finished.sort()).toEqual(["x1", "x2", "y1"]);
  });
});
