// The offboarding plan: each step's removal over its own logged writes, walked in reverse dependency order.
import "server-only";
import crypto from "node:crypto";
import type { Operation } from "@/lib/db/operations";
import { OFFBOARDING_STEP_ID } from "@/lib/db/offboardings";
import { STEP_IDS, STEP_NEEDS, type StepId } from "@/lib/steps/registry";
import { genericKeptLine } from "@/lib/steps/removal";
import type { LiveResource, RemovalLine } from "@/lib/steps/types";
import { classifyOperations, type Candidate } from "./classify";
import { removalOf, type LiveContext } from "./resources";

/** A step's removable kind ("storage-account", "application", …), as its removal names it. */
export type RemovableCategory = string;

/** What happens to one thing: removed, kept (not the run's, or not removable), or already gone. */
export type OffboardingAction = RemovalLine["action"];

/** One line of the plan; never a secret. */
export interface OffboardingItem {
  key: string;
  category: RemovableCategory | null;
  resourceType: string;
  resource: string;
  action: OffboardingAction;
  why: string;
  /** Removed by the removal of another item (the app registration takes its secret and grant with it). */
  removedWith?: "application";
}

/** The plan as shown and confirmed (by hash). */
export interface OffboardingPlan {
  items: OffboardingItem[];
  removeCount: number;
  hash: string;
}

/** The plan, the candidates behind it and the live handles of what is present in Azure. */
export interface PlannedOffboarding {
  plan: OffboardingPlan;
  candidates: Map<string, Candidate>;
  live: Map<string, LiveResource>;
}

/** The steps in removal order: each after every step that needs it (among the free ones, the latest in display order first). */
export function removalOrder(): StepId[] {
  const left = [...STEP_IDS];
  const out: StepId[] = [];
  while (left.length > 0) {
    const free = left.filter((id) => !left.some((other) => STEP_NEEDS[other].includes(id)));
    const next = free[free.length - 1];
    if (next === undefined) throw new Error("STEP_NEEDS has a cycle");
    out.push(next);
    left.splice(left.indexOf(next), 1);
  }
  return out;
}

/** Whether removing the item with this key ends the run's stored client secret (the app registration or the secret itself). */
export function removalEndsClientSecret(planned: PlannedOffboarding, key: string): boolean {
  const category = planned.plan.items.find((i) => i.key === key)?.category;
  return category === "application" || category === "client-secret";
}

function hashOf(items: readonly OffboardingItem[]): string {
  return crypto
    .createHash("sha256")
    .update(JSON.stringify(items.map((i) => [i.key, i.action, i.removedWith ?? ""])))
    .digest("hex");
}

const ACTION_RANK: Record<OffboardingAction, number> = { remove: 0, gone: 1, keep: 2 };
// Lines the portal never removes come after every removable kind.
const UNRANKED = Number.MAX_SAFE_INTEGER;

/** Reads Azure through every step's removal, each handed its own logged writes, and builds the plan. Makes no writes. */
export async function planOffboarding(ctx: LiveContext, operations: readonly Operation[]): Promise<PlannedOffboarding> {
  const candidates = classifyOperations(operations, OFFBOARDING_STEP_ID);
  const logOrder = new Map(candidates.map((c, i) => [c.key, i]));
  const byStep = new Map<string, Candidate[]>();
  for (const c of candidates) byStep.set(c.stepId, [...(byStep.get(c.stepId) ?? []), c]);

  const lines: { item: OffboardingItem; rank: number }[] = [];
  const live = new Map<string, LiveResource>();
  const order = removalOrder();
  let base = 0;
  for (const stepId of order) {
    const writes = byStep.get(stepId) ?? [];
    const removal = removalOf(stepId);
    if (!removal) {
      for (const w of writes) lines.push({ item: genericKeptLine(w), rank: UNRANKED });
      continue;
    }
    const planned = await removal.plan(writes, ctx);
    for (const [key, handle] of planned.live) live.set(key, handle);
    for (const item of planned.lines)
      lines.push({ item, rank: item.category === null ? UNRANKED : base + removal.categories.indexOf(item.category) });
    base += removal.categories.length;
  }
  // Writes of no step (a secret rotation's) are kept.
  for (const [stepId, writes] of byStep)
    if (!(order as readonly string[]).includes(stepId)) for (const w of writes) lines.push({ item: genericKeptLine(w), rank: UNRANKED });

  // Removals first, then what is gone, then what stays; by removal order within each, unranked lines in the log's order.
  lines.sort(
    (a, b) =>
      ACTION_RANK[a.item.action] - ACTION_RANK[b.item.action] ||
      a.rank - b.rank ||
      (a.rank === UNRANKED ? (logOrder.get(a.item.key) ?? 0) - (logOrder.get(b.item.key) ?? 0) : 0),
  );
  const items = lines.map((l) => l.item);
  const removeCount = items.filter((i) => i.action === "remove").length;
  return { plan: { items, removeCount, hash: hashOf(items) }, candidates: new Map(candidates.map((c) => [c.key, c])), live };
}
