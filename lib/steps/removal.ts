// The steps' removals share one shape: read each created write against Azure, remove what is still the run's, keep the rest with why.
import "server-only";
import { AzureOperationError } from "@/lib/azure/errors";
import type { LiveResource, LoggedWrite, RemovalContext, RemovalLine, Resolution, StepRemoval, StepRemovalPlan } from "./types";

/** The line's text when a write the run created is gone from Azure. */
export const ALREADY_GONE = "Already gone.";

/** Appended to the why of a removal the log only knows as an intent. */
export const UNCERTAIN_NOTE =
  " An attempt of this run was interrupted (or failed) after logging its intent to create it; it exists under the run's deterministic name, so it was most likely created by that attempt and is treated as created.";

/** Case-insensitive equality of two ids (null and undefined read as empty). */
export const same = (a: string | null | undefined, b: string | null | undefined) => (a ?? "").toLowerCase() === (b ?? "").toLowerCase();

/** A string field of a done step's outputs, or null. */
export function outputString(ctx: RemovalContext, step: string, field: string): string | null {
  const out = ctx.outputs[step];
  if (typeof out !== "object" || out === null) return null;
  const value = (out as Record<string, unknown>)[field];
  return typeof value === "string" && value !== "" ? value : null;
}

/** Runs a read; Azure's 404 (a missing parent: cluster, account, group) reads as null, the child is gone too. */
export async function absentOn404<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof AzureOperationError && error.code === "not_found") return null;
    throw error;
  }
}

/** Why a logged write the step doesn't remove stays, from what the run did to it. */
export function keptReasonOfKinds(kinds: readonly string[]): string {
  if (kinds.includes("adopt")) return "It existed before this run, which adopted it.";
  if (kinds.includes("update")) return "It existed before this run, which only updated it; the change is left in place.";
  return "This run did not create it.";
}

/** A write of no step's removal (a rotation's, a key no step claims): kept, named by its target. */
export function genericKeptLine(w: LoggedWrite): RemovalLine {
  return { key: w.key, category: null, resourceType: "Change", resource: w.target, action: "keep", why: keptReasonOfKinds(w.kinds) };
}

/** What a step tells the shared removal about its own keys. */
export interface RemovalSpec {
  /** The removable kinds, in removal order (dependants first). */
  categories: readonly string[];
  /** The removable kind of one of the step's keys; null: never removed (registrations, shared principals, updates). */
  categoryOf(key: string): string | null;
  /** People-facing type and name of a write with a removable kind. */
  describe(w: LoggedWrite, category: string): { resourceType: string; resource: string };
  /** The same for a line that removes it, when it reads better otherwise (a role assignment by its target). */
  describeRemoval?(w: LoggedWrite, category: string): { resourceType: string; resource: string };
  /** Type of a kept write without a removable kind. */
  keptType(key: string): string;
  /** Why a write without a removable kind is kept, when the kinds don't say it. */
  keptReason?(key: string): string | undefined;
  /** One sentence per removable kind: what removing it means. */
  why: Readonly<Record<string, string>>;
  /** Reads the write's resource in Azure: foreign means it exists but is not what this run created. */
  resolve(w: LoggedWrite, category: string, ctx: RemovalContext): Promise<Resolution>;
}

/** Whether the step removes this write: a removable kind it created (or may have created). */
export function isRemovable(spec: RemovalSpec, w: LoggedWrite): boolean {
  return spec.categoryOf(w.key) !== null && w.provenance !== "kept";
}

/** The kept line of a write. */
export function keptLine(spec: RemovalSpec, w: LoggedWrite): RemovalLine {
  const category = spec.categoryOf(w.key);
  const d = category ? spec.describe(w, category) : { resourceType: spec.keptType(w.key), resource: w.target };
  return {
    key: w.key,
    category,
    ...d,
    action: "keep",
    why: (category ? undefined : spec.keptReason?.(w.key)) ?? keptReasonOfKinds(w.kinds),
  };
}

/** Reads one removable write and makes its line: remove (with its live handle), keep (foreign), gone (created, absent) or none. */
export async function decideRemoval(
  spec: RemovalSpec,
  w: LoggedWrite,
  category: string,
  ctx: RemovalContext,
): Promise<{ line: RemovalLine; live?: LiveResource } | null> {
  const r = await spec.resolve(w, category, ctx);
  const d = (spec.describeRemoval ?? spec.describe)(w, category);
  // Only what the run did create can be "already gone"; an uncertain intent that never materialised is no line at all.
  if (r.state === "absent")
    return w.provenance === "created" ? { line: { key: w.key, category, ...d, action: "gone", why: ALREADY_GONE } } : null;
  if (r.state === "foreign") return { line: { key: w.key, category, ...d, action: "keep", why: r.reason } };
  const why = (spec.why[category] ?? "") + (w.provenance === "uncertain" ? UNCERTAIN_NOTE : "");
  return { line: { key: w.key, category, ...d, action: "remove", why }, live: r.live };
}

/** The removable writes in removal order (by kind; the log's order within one kind). */
export function removableInOrder(spec: RemovalSpec, writes: readonly LoggedWrite[]): { w: LoggedWrite; category: string }[] {
  const rank = (c: string) => spec.categories.indexOf(c);
  return writes
    .filter((w) => isRemovable(spec, w))
    .map((w) => ({ w, category: spec.categoryOf(w.key) as string }))
    .sort((a, b) => rank(a.category) - rank(b.category));
}

/** The removal of a step whose writes are each removed on their own: every removable write decided, then the kept ones. */
export function standardRemoval(spec: RemovalSpec, finish?: (lines: RemovalLine[]) => void): StepRemoval {
  return {
    categories: spec.categories,
    async plan(writes, ctx): Promise<StepRemovalPlan> {
      const lines: RemovalLine[] = [];
      const live = new Map<string, LiveResource>();
      for (const { w, category } of removableInOrder(spec, writes)) {
        const d = await decideRemoval(spec, w, category, ctx);
        if (!d) continue;
        lines.push(d.line);
        if (d.live) live.set(w.key, d.live);
      }
      for (const w of writes.filter((x) => !isRemovable(spec, x))) lines.push(keptLine(spec, w));
      finish?.(lines);
      return { lines, live };
    },
    resolve: (w, ctx) => resolveWrite(spec, w, ctx),
  };
}

/** Reads one write of the step again; a write without a removable kind reads as absent. */
export function resolveWrite(spec: RemovalSpec, w: LoggedWrite, ctx: RemovalContext): Promise<Resolution> {
  const category = spec.categoryOf(w.key);
  return category === null ? Promise.resolve({ state: "absent" }) : spec.resolve(w, category, ctx);
}
