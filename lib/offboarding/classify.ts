// A run's operation log summarised per key, with the step that wrote it: what each step is handed to plan its removal.
import "server-only";
import type { Operation } from "@/lib/db/operations";
import { splitKey } from "@/lib/steps/keys";
import type { LoggedWrite, Provenance } from "@/lib/steps/types";

export type { Provenance };

/** One logged key of the run and the step that wrote it. */
export interface Candidate extends LoggedWrite {
  stepId: string;
}

const CREATING_KINDS = new Set(["create", "grant"]);

/**
 * Summarises every key the run logged (offboarding's own deletes excluded), in the log's order: created when a create or
 * grant succeeded, uncertain when a create or grant has only an intent without outcome or a failure (a crash or a timeout
 * may still have created it: the step's removal reads Azure to decide), kept otherwise (adopted, updated, registered).
 */
export function classifyOperations(operations: readonly Operation[], excludeStepId: string): Candidate[] {
  const byKey = new Map<string, Operation[]>();
  for (const op of operations) {
    if (op.stepId === excludeStepId) continue;
    const list = byKey.get(op.key) ?? [];
    list.push(op);
    byKey.set(op.key, list);
  }
  const out: Candidate[] = [];
  for (const [key, ops] of byKey) {
    const kinds = [...new Set(ops.map((o) => o.kind))];
    const creating = ops.filter((o) => CREATING_KINDS.has(o.kind));
    const succeeded = [...creating].reverse().find((o) => o.status === "succeeded");
    const first = ops[0];
    const last = ops[ops.length - 1];
    const target = (succeeded ?? last)?.target ?? key;
    const stepId = first?.stepId ?? "";
    const provenance: Provenance = succeeded ? "created" : creating.length > 0 ? "uncertain" : "kept";
    out.push({ key, stepId, kinds, target, resourceId: succeeded?.resourceId ?? null, provenance });
  }
  return out;
}

/** Offboarding's own log key: the removal of one item of the plan, by the item's key. */
export const offboardingKeys = {
  delete: (itemKey: string) => `offboarding.delete:${itemKey}`,
  /** The item key a removal was logged under; null for any other key. */
  removedItemOf(key: string): string | null {
    const k = splitKey(key);
    return k?.head === "offboarding.delete" ? k.value : null;
  },
};
