// Which remote writes of a run created something the run may remove, from its operation log alone (no Azure reads).
import type { Operation } from "@/lib/db/operations";

/** Kinds of things offboarding removes, in removal order (dependants first). */
export const REMOVAL_ORDER = [
  "workbench-device",
  "role-assignment",
  "custom-role",
  "consent",
  "client-secret",
  "application",
  "service-principal",
  "diagnostic-setting",
  "lifecycle-policy",
  "storage-account",
  "resource-group",
] as const;
export type RemovableCategory = (typeof REMOVAL_ORDER)[number];

/** What the log says about one key. created: a create/grant succeeded; uncertain: only an intent (or a failure) exists. */
export type Provenance = "created" | "uncertain" | "kept";

/** One logged key of the run, classified. */
export interface Candidate {
  key: string;
  /** null: never removed by the portal (provider registrations, shared first-party service principals, updates). */
  category: RemovableCategory | null;
  provenance: Provenance;
  /** The last logged kind for the key (create, adopt, update, grant, register). */
  kinds: string[];
  /** The target text of the write, for people. */
  target: string;
  /** Resource id (or Graph object id / key id / device id) from the succeeded create, when known. */
  resourceId: string | null;
  /** Why the portal keeps it (provenance kept). */
  keptReason?: string;
}

const PREFIXES: readonly [string, RemovableCategory | null][] = [
  ["workbench-handoff.device:", "workbench-device"],
  ["role-assignments.", "role-assignment"],
  ["custom-role.put:", "custom-role"],
  ["app-registration.consent:", "consent"],
  ["app-registration.secret:", "client-secret"],
  ["app-registration.app:", "application"],
  ["app-registration.service-principal:", "service-principal"],
  ["app-registration.log-analytics-service-principal:", null],
  ["diagnostic-settings.setting:", "diagnostic-setting"],
  ["storage.lifecycle:", "lifecycle-policy"],
  ["storage.account:", "storage-account"],
  ["storage.resource-group:", "resource-group"],
  ["storage.register:", null],
  ["storage.network:", null],
];

/** The category of a write-ahead key; undefined for keys offboarding doesn't know. */
export function categoryOfKey(key: string): RemovableCategory | null | undefined {
  return PREFIXES.find(([prefix]) => key.startsWith(prefix))?.[1];
}

/** The part of a key after its prefix ("storage.account:/subscriptions/…" → "/subscriptions/…"). */
export function keyValue(key: string): string {
  const i = key.indexOf(":");
  return i < 0 ? "" : key.slice(i + 1);
}

const CREATING_KINDS = new Set(["create", "grant"]);

function keptReasonFor(key: string, kinds: string[]): string {
  if (key.startsWith("storage.register:"))
    return "Resource provider registrations are subscription-wide and other resources may rely on them.";
  if (key.startsWith("app-registration.log-analytics-service-principal:"))
    return "Microsoft's Log Analytics API service principal is shared by every app in the tenant.";
  if (kinds.includes("adopt")) return "It existed before this run, which adopted it.";
  if (kinds.includes("update")) return "It existed before this run, which only updated it; the change is left in place.";
  return "This run did not create it.";
}

/**
 * Classifies every key the run logged (offboarding's own deletes excluded): created when a create or grant succeeded,
 * uncertain when a create or grant has only an intent without outcome or a failure (a crash or a timeout may still have
 * created it: the plan reads Azure to decide), kept otherwise (adopted, updated, registered).
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
    const category = categoryOfKey(key) ?? null;
    const creating = ops.filter((o) => CREATING_KINDS.has(o.kind));
    const succeeded = [...creating].reverse().find((o) => o.status === "succeeded");
    const last = ops[ops.length - 1];
    const target = (succeeded ?? last)?.target ?? key;
    if (category !== null && succeeded) {
      out.push({ key, category, provenance: "created", kinds, target, resourceId: succeeded.resourceId });
    } else if (category !== null && creating.length > 0) {
      out.push({ key, category, provenance: "uncertain", kinds, target, resourceId: null });
    } else {
      out.push({ key, category, provenance: "kept", kinds, target, resourceId: null, keptReason: keptReasonFor(key, kinds) });
    }
  }
  return out;
}
