import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { dependentsOf, needsOf, startableSteps, STEP_IDS, STEP_NEEDS, type StepId } from "./registry";

/** Step ids whose outputs a step source reads: `outputs.storage`, `outputs["app-registration"]` (comments left out). */
function outputsRead(source: string): Set<string> {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|\s)\/\/.*$/gm, "$1");
  const reads = new Set<string>();
  for (const m of code.matchAll(/outputs\??\.([A-Za-z]+)\b|outputs\??\.?\[\s*["']([a-z-]+)["']\s*\]/g)) reads.add(m[1] ?? m[2] ?? "");
  return reads;
}

/** Every needed step, directly or through others. */
function closure(id: StepId): Set<StepId> {
  const out = new Set<StepId>();
  const visit = (s: StepId) => {
    for (const n of needsOf(s))
      if (!out.has(n)) {
        out.add(n);
        visit(n);
      }
  };
  visit(id);
  return out;
}

describe("STEP_NEEDS", () => {
  it("is acyclic, and STEPS lists every step after all it needs", () => {
    for (const [index, id] of STEP_IDS.entries()) {
      expect(closure(id).has(id), `${id} needs itself`).toBe(false);
      for (const need of needsOf(id)) expect(STEP_IDS.indexOf(need), `${id} is listed before ${need}`).toBeLessThan(index);
    }
  });

  it("names only known steps, each once", () => {
    for (const id of STEP_IDS) {
      const needs = needsOf(id);
      expect(new Set(needs).size).toBe(needs.length);
      for (const n of needs) expect(STEP_IDS).toContain(n);
    }
    expect(Object.keys(STEP_NEEDS).sort()).toEqual([...STEP_IDS].sort());
  });

  it("covers every ctx.outputs read in each step's source, including what it passes whole to helpers of its own file", () => {
    const dir = path.join(process.cwd(), "lib/steps");
    let readsSeen = 0;
    for (const id of STEP_IDS) {
      const reads = outputsRead(readFileSync(path.join(dir, `${id}.ts`), "utf8"));
      readsSeen += reads.size;
      for (const read of reads) {
        expect(STEP_IDS, `${id} reads outputs.${read}, not a step`).toContain(read);
        expect(needsOf(id), `${id} reads outputs of ${read}`).toContain(read);
      }
    }
    // The scan itself finds the reads known today (verification alone reads five steps' outputs).
    expect(readsSeen).toBeGreaterThanOrEqual(11);
    expect(outputsRead(readFileSync(path.join(dir, "verification.ts"), "utf8"))).toEqual(
      new Set(["app-registration", "workbench-handoff", "storage", "diagnostic-settings", "role-assignments"]),
    );
  });

  it("keeps storage → diagnostic-settings independent of app-registration and custom-role", () => {
    expect(closure("diagnostic-settings")).toEqual(new Set(["storage"]));
    expect(closure("app-registration").size).toBe(0);
    expect(closure("custom-role").size).toBe(0);
    expect(dependentsOf("app-registration")).toEqual(["role-assignments", "workbench-handoff", "verification"]);
    expect(dependentsOf("diagnostic-settings")).toEqual(["verification"]);
    expect(dependentsOf("verification")).toEqual([]);
  });

  it("starts every step whose needs are done: the three roots at first, then what each finish frees", () => {
    const steps = (done: readonly StepId[], only: readonly StepId[] = STEP_IDS) =>
      only.map((stepId) => ({ stepId, status: done.includes(stepId) ? "done" : "pending" }));
    expect(startableSteps(steps([]))).toEqual(["storage", "app-registration", "custom-role"]);
    expect(startableSteps(steps(["storage"]))).toEqual(["diagnostic-settings", "app-registration", "custom-role"]);
    expect(startableSteps(steps(["storage", "diagnostic-settings", "app-registration", "custom-role"]))).toEqual(["role-assignments"]);
    expect(startableSteps(steps([...STEP_IDS]))).toEqual([]);
    // A need the run doesn't have (a run made before the step existed) holds nothing back.
    expect(startableSteps(steps(["storage", "app-registration"], ["storage", "app-registration", "role-assignments"]))).toEqual([
      "role-assignments",
    ]);
  });
});
