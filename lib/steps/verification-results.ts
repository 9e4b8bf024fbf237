// The Verification step's result: one row per check, and how a set of checks reads as a step outcome.
import "server-only";
import { z } from "zod";

export const CHECK_STATUSES = ["pass", "fail", "waiting", "skipped"] as const;
export type CheckStatus = (typeof CHECK_STATUSES)[number];

/** One verified fact, with a reason an admin can act on. `at` is ISO 8601. */
export interface VerificationCheck {
  id: string;
  label: string;
  status: CheckStatus;
  reason: string;
  at: string;
  /** Per-cluster log checks: when the newest kube-audit blob was written (ISO 8601). */
  newestBlobAt?: string;
}

/** What the step stores as its output (also kept when the step fails, so the run page shows every check). */
export interface VerificationOutput {
  ranAt: string;
  /** Which secret the sign-in used: the run's own (first verification) or a one-hour verification secret. */
  credential: "run-secret" | "verification-secret";
  checks: VerificationCheck[];
}

export const verificationOutputSchema = z.object({
  ranAt: z.string(),
  credential: z.enum(["run-secret", "verification-secret"]),
  checks: z.array(
    z.object({
      id: z.string(),
      label: z.string(),
      status: z.enum(CHECK_STATUSES),
      reason: z.string(),
      at: z.string(),
      newestBlobAt: z.string().optional(),
    }),
  ),
});

/** Counts by status. */
export function summarizeChecks(checks: readonly VerificationCheck[]): Record<CheckStatus, number> {
  const out: Record<CheckStatus, number> = { pass: 0, fail: 0, waiting: 0, skipped: 0 };
  for (const c of checks) out[c.status] += 1;
  return out;
}

/** The step's failure message when any check failed (null when none did): how many, and the first reason. */
export function failureMessage(checks: readonly VerificationCheck[]): string | null {
  const failed = checks.filter((c) => c.status === "fail");
  const first = failed[0];
  if (!first) return null;
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more failed check${failed.length > 2 ? "s" : ""}, listed below)` : "";
  return `Verification failed: ${first.label}: ${first.reason}${more}`;
}

/** AKS writes kube-audit to resourceId=/SUBSCRIPTIONS/…/MANAGEDCLUSTERS/<NAME>/y=…; the prefix of one cluster. */
export function kubeAuditPrefix(clusterId: string): string {
  return `resourceId=${clusterId.toUpperCase()}/`;
}

/** The newest blob of one cluster among an account's kube-audit blobs, or null before the first logs. */
export function newestBlobOf<T extends { name: string; lastModified: Date }>(clusterId: string, blobs: readonly T[]): T | null {
  const prefix = kubeAuditPrefix(clusterId).toUpperCase();
  let newest: T | null = null;
  for (const b of blobs) {
    if (!b.name.toUpperCase().startsWith(prefix)) continue;
    if (!newest || b.lastModified.getTime() > newest.lastModified.getTime()) newest = b;
  }
  return newest;
}

/** Output of a step as stored, or null when it isn't a verification result. */
export function parseVerificationOutput(value: unknown): VerificationOutput | null {
  const parsed = verificationOutputSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}
