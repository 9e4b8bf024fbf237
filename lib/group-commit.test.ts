import { describe, expect, it } from "vitest";
import { groupCommit, groupCommitPerKey } from "./group-commit";

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

describe("groupCommitPerKey", () => {
  it("batches calls of one key together, keeps keys apart, and drops a key's committer once its queue is empty", async () => {
    const batches: string[][] = [];
    const commit = groupCommitPerKey(async (items: string[]) => {
      batches.push(items);
      await tick();
      return items.map((i) => i.toUpperCase());
    });
    const calls = [commit("t1", "a"), commit("t2", "x"), commit("t1", "b"), commit("t1", "c"), commit("t2", "y")];
    expect(commit.keys).toBe(2);
    const results = await Promise.all(calls);
    expect(results).toEqual(["A", "X", "B", "C", "Y"]);
    expect(batches).toEqual([["a"], ["x"], ["b", "c"], ["y"]]);
    expect(commit.keys).toBe(0);
    expect(await commit("t1", "d")).toBe("D");
    expect(batches.at(-1)).toEqual(["d"]);
    expect(commit.keys).toBe(0);
  });
});
