// Hold rules: pause the Nth request matching a pattern (before or after it is applied) so a test can kill the caller mid-flight.
import { z } from "zod";
import type { SimState } from "./state";

export const holdRuleSchema = z.object({
  /** Test-chosen label, reported back by GET /_sim/holds. */
  name: z.string().min(1).max(100),
  method: z
    .string()
    .min(1)
    .max(10)
    .transform((m) => m.toUpperCase()),
  /** Regular expression (case-insensitive) tested against the request path without query string. */
  path: z
    .string()
    .min(1)
    .max(500)
    .refine((p) => {
      try {
        new RegExp(p, "i");
        return true;
      } catch {
        return false;
      }
    }, "not a valid regular expression"),
  /** Which matching request to hold, 1-based; earlier matches pass untouched. */
  nth: z.number().int().min(1).max(1000).default(1),
  /** before: hold, then apply; after: apply, then hold the response (the write happened, the caller has not heard). */
  phase: z.enum(["before", "after"]).default("after"),
  ms: z.number().int().min(0).max(120_000).default(30_000),
});
export const holdRulesSchema = z.object({ rules: z.array(holdRuleSchema).max(50) });

export type HoldRule = z.infer<typeof holdRuleSchema>;

interface LiveRule extends HoldRule {
  regex: RegExp;
  seen: number;
  /** When the held request arrived (set once); the test polls for this to know when to kill the caller. */
  heldAt: string | null;
  releasedAt: string | null;
  release: (() => void) | null;
}

const rules = new WeakMap<SimState, LiveRule[]>();

/** Replace the state's hold rules (a reset state starts with none). */
export function configureHolds(state: SimState, next: HoldRule[]): void {
  releaseHolds(state);
  rules.set(
    state,
    next.map((r) => ({ ...r, regex: new RegExp(r.path, "i"), seen: 0, heldAt: null, releasedAt: null, release: null })),
  );
}

/** Let every held request go now and drop the rules. */
export function releaseHolds(state: SimState): void {
  for (const r of rules.get(state) ?? []) r.release?.();
  rules.delete(state);
}

/** The rules with their progress, for GET /_sim/holds. */
export function holdStatus(state: SimState) {
  return (rules.get(state) ?? []).map((r) => ({
    name: r.name,
    method: r.method,
    path: r.path,
    nth: r.nth,
    phase: r.phase,
    seen: r.seen,
    heldAt: r.heldAt,
    releasedAt: r.releasedAt,
  }));
}

/** Counts this request against every rule; returns the rule that holds it, if any. */
export function matchHold(state: SimState, method: string, path: string): { phase: "before" | "after"; wait(): Promise<void> } | undefined {
  let hit: LiveRule | undefined;
  for (const r of rules.get(state) ?? []) {
    if (r.method !== method || !r.regex.test(path)) continue;
    r.seen += 1;
    if (r.seen === r.nth && !hit) hit = r;
  }
  if (!hit) return undefined;
  const rule = hit;
  return {
    phase: rule.phase,
    wait: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          rule.release = null;
          rule.releasedAt ??= new Date().toISOString();
          resolve();
        };
        const timer = setTimeout(done, rule.ms);
        rule.release = done;
        rule.heldAt = new Date().toISOString();
      }),
  };
}
