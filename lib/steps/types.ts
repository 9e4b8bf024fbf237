// The contract between the engine and the provisioning steps.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import type { WorkbenchConfig } from "@/lib/workbench/client";
import type { RunConfig } from "./config";
import type { StepId } from "./registry";

export const CHANGE_ACTIONS = ["create", "update", "no-change", "adopt", "grant", "register", "remove"] as const;
export type ChangeAction = (typeof CHANGE_ACTIONS)[number];

/**
 * Something a step can't do for one cluster, for a reason no retry fixes (Azure's 5-settings limit, a deny policy, the
 * cluster deleted): the step still finishes, "done with exceptions", and the run page names the cluster, why and what to do.
 */
export interface AttentionItem {
  kind: "cluster";
  /** The cluster's name. */
  subject: string;
  /** The cluster's Azure id (to leave it out of a plan or extend to it); never shown. */
  resourceId: string;
  /** Stable reason: "diagnostic_settings_limit", "policy_denied", "cluster_gone". */
  code: string;
  /** Why, in one sentence. */
  reason: string;
  /** What the admin does about it, in one sentence. */
  action: string;
}

/** One line of the plan: a write the step will make (or the reason it makes none). */
export interface PlannedChange {
  stepId: StepId;
  /** Deterministic operation key, also used in the write-ahead log: "storage.create:/subscriptions/…/storageAccounts/x". */
  key: string;
  action: ChangeAction;
  /** What kind of thing, for people: "Storage account", "Diagnostic setting", "Role assignment". */
  resourceType: string;
  /** Which one, for people: a name or a short path; never a secret. */
  resource: string;
  /** One line of why it is needed. */
  why: string;
  /** Property-level detail: "minimumTlsVersion: TLS1_2", "scopes: +/subscriptions/…". */
  details?: string[];
  /** The plan already knows this write can't be done (a cluster at the settings limit): the plan page flags it. */
  attention?: AttentionItem;
}

export type OperationKindForLog = "create" | "update" | "adopt" | "grant" | "delete" | "register";

export interface StepProgressUpdate {
  done: number;
  total: number;
  label: string;
}

/** What a step may use. The engine provides it; steps never touch the database or next/* directly. */
export interface StepContext {
  runId: string;
  tenantId: string;
  actorUpn: string;
  config: RunConfig;
  /** The acting admin's delegated credentials. */
  arm: TokenCredential;
  graph: TokenCredential;
  /** Outputs of the steps before this one (by step id), as their `apply` returned them. */
  outputs: Partial<Record<StepId, unknown>>;
  /**
   * Run one remote write: the engine records the intent first, then the outcome (with the resource id),
   * so a crash between the write and its record is visible on resume. Throws what `write` throws.
   */
  write<T>(
    op: { key: string; kind: OperationKindForLog; target: string },
    write: () => Promise<T>,
    resourceIdOf?: (result: T) => string | undefined,
  ): Promise<T>;
  progress(update: StepProgressUpdate): Promise<void>;
  /**
   * Wait before the `retry`-th retry (1-based) of one operation that met replication lag, on the engine's replication
   * backoff and budget, so the step retries just that call instead of the whole step. False: the budget is spent or
   * the lease is gone, throw the replication error. Absent (plan, tests): the caller's retry layer retries the step.
   */
  waitForReplication?(retry: number): Promise<boolean>;
  /** Whether an earlier attempt of this run recorded the write with this key as succeeded (the write-ahead log). */
  wroteBefore(key: string): Promise<boolean>;
  /** Encrypted, per-run secret storage (the client secret until its hand-off). */
  secrets: {
    put(kind: string, value: string, meta: { keyId: string; hint: string; expiresAt: Date }): Promise<void>;
    get(kind: string): Promise<{ value: string; keyId: string; hint: string; expiresAt: Date } | null>;
    delete(kind: string): Promise<void>;
  };
}

/** ok with `attention`: the step is done with exceptions (what it could not do); the engine stores it beside the outputs. */
export type VerifyResult = { ok: true; checks: string[]; attention?: AttentionItem[] } | { ok: false; reason: string };

/** What a step's description is made from: the run's configuration and the step's own stored plan lines (none before a plan). */
export interface DescribeInput {
  runId: string;
  tenantId: string;
  config: RunConfig;
  planned: readonly PlannedChange[];
}

/**
 * One thing a step writes, as data the change-approval exports render: `key` is its operation-log key (the plan line that
 * decides it), `resourceType`, `name` and `scope` place it, `properties` are what the step sends.
 */
export interface DescribedResource<Properties> {
  key: string;
  /** Azure's type name: "Microsoft.Storage/storageAccounts", "microsoft.graph.application". */
  resourceType: string;
  name: string;
  scope: string;
  properties: Properties;
}

/** What the run's log says about one key: created (a create or grant succeeded), uncertain (only an intent or a failure), kept (no create). */
export type Provenance = "created" | "uncertain" | "kept";

/** One key of the run's operation log that a step wrote, summarised by the caller (steps never read the log themselves). */
export interface LoggedWrite {
  key: string;
  /** Every kind logged for the key (create, adopt, update, grant, register, delete). */
  kinds: string[];
  /** The target text of the write, for people. */
  target: string;
  /** Resource id (or Graph object id / key id / device id) from the succeeded create, when known. */
  resourceId: string | null;
  provenance: Provenance;
}

/** What a step's removal may use: the acting admin's credentials, the run's configuration and its steps' outputs. */
export interface RemovalContext {
  tenantId: string;
  config: RunConfig;
  arm: TokenCredential;
  graph: TokenCredential;
  /** Outputs of the run's done steps (ids the log doesn't carry, e.g. the app's appId). */
  outputs: Partial<Record<string, unknown>>;
  workbench: WorkbenchConfig | null;
}

/** A resource that exists now: how to remove it and how to check it is gone. */
export interface LiveResource {
  remove(): Promise<void>;
  exists(): Promise<boolean>;
}

/** One logged write read against Azure: absent, present (removable), or present but not the run's to remove. */
export type Resolution = { state: "absent" } | { state: "present"; live: LiveResource } | { state: "foreign"; reason: string };

/** One line of a step's removal plan; never a secret. */
export interface RemovalLine {
  key: string;
  /** The step's removable kind (one of its `categories`); null: the portal never removes it. */
  category: string | null;
  resourceType: string;
  resource: string;
  action: "remove" | "keep" | "gone";
  why: string;
  /** Removed by the removal of another item (the app registration takes its secret and grant with it). */
  removedWith?: "application";
}

/** A step's removal plan, with the live handles of what it removes. */
export interface StepRemovalPlan {
  lines: RemovalLine[];
  live: Map<string, LiveResource>;
}

/**
 * How a step undoes what it created. `plan` reads Azure for the step's own logged writes and says what it would remove
 * and what it keeps (with why); `resolve` reads one write again right before its removal: `present.live.remove()` removes
 * it, and absent (already gone) counts as removed.
 */
export interface StepRemoval {
  /** The kinds of things the step removes, in removal order (dependants first). */
  categories: readonly string[];
  plan(writes: readonly LoggedWrite[], ctx: RemovalContext): Promise<StepRemovalPlan>;
  resolve(write: LoggedWrite, ctx: RemovalContext): Promise<Resolution>;
}

/**
 * A provisioning step. `read` looks at live state, `plan` says what would change, `apply` makes it so
 * (idempotent: safe to run again after a crash at any point), `verify` reads again and checks the result.
 * `removal` undoes it (offboarding); a step that leaves nothing behind has none.
 */
export interface StepModule<Live = unknown, Out = unknown> {
  id: StepId;
  read(ctx: StepContext): Promise<Live>;
  plan(ctx: StepContext, live: Live): PlannedChange[];
  apply(ctx: StepContext, live: Live): Promise<Out>;
  verify(ctx: StepContext, out: Out): Promise<VerifyResult>;
  removal?: StepRemoval;
}
