// The portal's Prometheus metrics (prom-client): one registry per process, scraped at /metrics.
import "server-only";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** Every instrument the portal records. */
export interface PortalMetrics {
  registry: Registry;
  /** Runs in the database by status, set at scrape time (the same on every instance). */
  runs: Gauge<"status">;
  /** One execution of one step, from taking its lease to giving it back, by how it ended. */
  stepDuration: Histogram<"step" | "outcome">;
  /** Leased jobs this instance is working on now, by kind (step, offboarding, rotation). */
  jobsWorking: Gauge<"job">;
  /** Every HTTP try to Azure, Graph, Log Analytics or Workbench, by answer (an HTTP status, or timeout / network_error). */
  azureRequests: Counter<"service" | "operation" | "status">;
  azureRequestDuration: Histogram<"service" | "operation">;
  /** Retry waits of the engine, by failure class. */
  retries: Counter<"class">;
  /** Leases taken from a holder whose lease had expired (by an execution, or by the start-up recovery sweep). */
  leaseTakeovers: Counter<"job" | "by">;
  /** Executions that found their lease gone (taken over, or expired while the database was away). */
  leasesLost: Counter<"job">;
  /** Sign-in callbacks by outcome: success, or the failure's code (state_mismatch, expired, denied, failed). */
  signIns: Counter<"outcome">;
}

// Next may load this module more than once (dev reloads, one bundle per route): registering a metric twice throws.
const KEY = Symbol.for("aks-portal.metrics");
const globals = globalThis as typeof globalThis & { [KEY]?: PortalMetrics };

function create(): PortalMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "portal_" });
  const registers = [registry];
  return {
    registry,
    runs: new Gauge({ name: "portal_runs", help: "Onboarding runs in the database by status.", labelNames: ["status"], registers }),
    stepDuration: new Histogram({
      name: "portal_step_duration_seconds",
      help: "Duration of one step execution, by step and outcome.",
      labelNames: ["step", "outcome"],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers,
    }),
    jobsWorking: new Gauge({
      name: "portal_jobs_working",
      help: "Leased jobs (steps, offboardings, rotations) this instance is working on now.",
      labelNames: ["job"],
      registers,
    }),
    azureRequests: new Counter({
      name: "portal_azure_requests_total",
      help: "HTTP tries to Azure Resource Manager, Microsoft Graph, Log Analytics and Workbench, by service, operation and status.",
      labelNames: ["service", "operation", "status"],
      registers,
    }),
    azureRequestDuration: new Histogram({
      name: "portal_azure_request_duration_seconds",
      help: "Latency of one HTTP try to Azure, Graph, Log Analytics or Workbench, by service and operation.",
      labelNames: ["service", "operation"],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    retries: new Counter({
      name: "portal_retries_total",
      help: "Retry waits of leased jobs, by failure class (transient, replication, interrupted, verify).",
      labelNames: ["class"],
      registers,
    }),
    leaseTakeovers: new Counter({
      name: "portal_lease_takeovers_total",
      help: "Leases taken over after their holder's expired, by job kind and by whom (execution, recovery).",
      labelNames: ["job", "by"],
      registers,
    }),
    leasesLost: new Counter({
      name: "portal_leases_lost_total",
      help: "Executions that found their lease gone, by job kind.",
      labelNames: ["job"],
      registers,
    }),
    signIns: new Counter({
      name: "portal_sign_ins_total",
      help: "Sign-in callbacks by outcome (success, or the failure's code).",
      labelNames: ["outcome"],
      registers,
    }),
  };
}

/** The process's metrics, created on first use. */
export function metrics(): PortalMetrics {
  globals[KEY] ??= create();
  return globals[KEY];
}
