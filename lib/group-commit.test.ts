import { describe, expect, it } from "vitest";
import { groupCommit } from "./group-commit";

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

describe("groupCommit", () => {
  it("flushes a lone call at once, and calls made during a flush together in the next one", async () => {
    const batches: number[][] = [];
    const commit = groupCommit(async (items: number[]) => {
      batches.push(items);
      await tick();
      return items.map((i) => i * 10);
    });
    expect(await commit(1)).toBe(10);
    const results = await Promise.all([2, 3, 4, 5].map((i) => commit(i)));
    expect(results).toEqual([20, 30, 40, 50]);
    expect(batches).toEqual([[1], [2], [3, 4, 5]]);
  });

  it("caps a batch and rejects every call of a failed batch, and only those", async () => {
    const batches: string[][] = [];
    const commit = groupCommit(async (items: string[]) => {
      batches.push(items);
      await tick();
      if (items.includes("bad")) throw new Error("flush failed");
      return items;
    }, 2);
    const settled = await Promise.allSettled(["a", "b", "bad", "c", "d"].map((i) => commit(i)));
    expect(batches).toEqual([["a"], ["b", "bad"], ["c", "d"]]);
    expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled", "fulfilled"]);
    expect(await commit("e")).toBe("e"); // the committer keeps working after a failure
  });

  it("rejects when a flush returns the wrong number of results", async () => {
    const commit = groupCommit(async (items: number[]) => items.slice(1));
    await expect(commit(1)).rejects.toThrow(/0 results for 1 items/);
  });
});
