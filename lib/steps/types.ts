// The contract between the engine and the provisioning steps.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
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

/**
 * A provisioning step. `read` looks at live state, `plan` says what would change, `apply` makes it so
 * (idempotent: safe to run again after a crash at any point), `verify` reads again and checks the result.
 */
export interface StepModule<Live = unknown, Out = unknown> {
  id: StepId;
  read(ctx: StepContext): Promise<Live>;
  plan(ctx: StepContext, live: Live): PlannedChange[];
  apply(ctx: StepContext, live: Live): Promise<Out>;
  verify(ctx: StepContext, out: Out): Promise<VerifyResult>;
}
