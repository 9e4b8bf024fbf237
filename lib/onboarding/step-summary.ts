// What a finished step created, in words and Azure Portal links, read defensively from its stored outputs.
import "server-only";
import { z } from "zod";
import { maskText } from "@/lib/presenter";
import type { RunConfig } from "@/lib/steps/config";
import type { StepId } from "@/lib/steps/registry";
import { parseVerificationOutput, summarizeChecks } from "@/lib/steps/verification-results";

/** Clusters the run's steps could not onboard (a step done with exceptions), each named once, in step order. */
export function clustersNeedingAttention(attention: readonly { subject: string }[]): string[] {
  return [...new Set(attention.map((a) => a.subject))];
}

/** "1 cluster needs attention", "3 clusters need attention"; null when none does. */
export function attentionHeadline(clusters: number): string | null {
  if (clusters <= 0) return null;
  return clusters === 1 ? "1 cluster needs attention" : `${clusters} clusters need attention`;
}

/** A completed run's status in words: "Onboarding complete", or "Complete — 1 cluster needs attention" when it had exceptions. */
export function completedRunText(clustersNeedingAttentionCount: number): string {
  const headline = attentionHeadline(clustersNeedingAttentionCount);
  return headline ? `Complete — ${headline}` : "Onboarding complete";
}

export interface SummaryLine {
  text: string;
  /** Azure Portal deep link, when the thing has a page there. */
  href?: string;
}

const storageSchema = z.object({
  accounts: z.array(z.object({ name: z.string(), region: z.string(), id: z.string(), adopted: z.boolean() })),
});
const diagnosticSchema = z.object({
  settings: z.array(z.object({ clusterId: z.string(), clusterName: z.string(), storageAccountId: z.string(), adopted: z.boolean() })),
});
const appSchema = z.object({
  appId: z.string(),
  consentGranted: z.boolean(),
  secret: z.object({ hint: z.string(), expiresAt: z.string() }).nullable(),
});
const roleSchema = z.object({ roleDefinitionId: z.string(), assignableScopes: z.array(z.string()) });
const assignmentsSchema = z.object({
  assignments: z.array(z.object({ scope: z.string(), roleName: z.string(), condition: z.string().optional() })),
});
const handoffSchema = z.union([z.object({ mode: z.literal("api"), deviceName: z.string() }), z.object({ mode: z.literal("manual") })]);

const lastSegment = (id: string) => id.split("/").filter(Boolean).pop() ?? id;

/**
 * Lines for one step's outputs; empty when the outputs don't have the expected shape. In presenter mode ids are masked,
 * links dropped (their URLs carry the tenant and resource ids) and the secret hint left out; `secretHints: false` leaves
 * it out too (a viewer who may not manage the app's credentials).
 */
export function summarizeStep(stepId: StepId, outputs: unknown, ctx: SummaryContext): SummaryLine[] {
  const lines = summaryLines(stepId, outputs, ctx);
  return ctx.presenter ? lines.map((line) => ({ text: maskText(line.text) })) : lines;
}

interface SummaryContext {
  portalUrl: string;
  tenantId: string;
  config: RunConfig;
  presenter?: boolean;
  secretHints?: boolean;
}

function summaryLines(stepId: StepId, outputs: unknown, ctx: SummaryContext): SummaryLine[] {
  const resource = (id: string) => `${ctx.portalUrl}/#@${ctx.tenantId}/resource${id}`;
  const subscriptionName = (scope: string) => {
    const id = scope.split("/")[2] ?? "";
    return ctx.config.subscriptions.find((s) => s.id.toLowerCase() === id.toLowerCase())?.displayName ?? scope;
  };
  // Assignments sit on subscriptions, clusters and storage accounts: a resource reads as its name.
  const scopeName = (scope: string) => (/\/providers\//i.test(scope) ? lastSegment(scope) : subscriptionName(scope));
  switch (stepId) {
    case "storage": {
      const p = storageSchema.safeParse(outputs);
      return p.success
        ? p.data.accounts.map((a) => ({ text: `${a.name} in ${a.region} (${a.adopted ? "adopted" : "created"})`, href: resource(a.id) }))
        : [];
    }
    case "diagnostic-settings": {
      const p = diagnosticSchema.safeParse(outputs);
      return p.success
        ? p.data.settings.map((s) => ({
            text: `${s.clusterName} sends kube-audit to ${lastSegment(s.storageAccountId)}${s.adopted ? " (existing setting adopted)" : ""}`,
            href: `${resource(s.clusterId)}/diagnostics`,
          }))
        : [];
    }
    case "app-registration": {
      const p = appSchema.safeParse(outputs);
      if (!p.success) return [];
      const lines: SummaryLine[] = [
        {
          text: `App registration, client ID ${p.data.appId}`,
          href: `${ctx.portalUrl}/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/Overview/appId/${p.data.appId}`,
        },
      ];
      if (p.data.consentGranted) lines.push({ text: "Admin consent granted: Log Analytics API Data.Read" });
      if (p.data.secret) {
        const hint = ctx.presenter || ctx.secretHints === false ? "" : ` (starts with ${p.data.secret.hint}…)`;
        lines.push({ text: `Client secret${hint} expires ${p.data.secret.expiresAt.slice(0, 10)}` });
      }
      return lines;
    }
    case "custom-role": {
      const p = roleSchema.safeParse(outputs);
      return p.success
        ? [
            {
              text: `${ctx.config.vendor.name} custom roles (read-only AKS, cluster metadata, Log Analytics queries), assignable in ${p.data.assignableScopes.map(subscriptionName).join(", ")}`,
            },
          ]
        : [];
    }
    case "role-assignments": {
      const p = assignmentsSchema.safeParse(outputs);
      return p.success
        ? p.data.assignments.map((a) => ({
            text: `${a.roleName} on ${scopeName(a.scope)}${a.condition ? " (reads limited to this audit storage account)" : ""}`,
            href: `${resource(a.scope)}/users`,
          }))
        : [];
    }
    case "workbench-handoff": {
      const p = handoffSchema.safeParse(outputs);
      if (!p.success) return [];
      return [{ text: p.data.mode === "api" ? `Workbench device "${p.data.deviceName}" registered` : "Hand-off by the admin (below)" }];
    }
    case "verification": {
      const out = parseVerificationOutput(outputs);
      if (!out) return [];
      const n = summarizeChecks(out.checks);
      const extra = [
        n.fail ? `${n.fail} failed` : "",
        n.waiting ? `${n.waiting} waiting for first logs` : "",
        n.skipped ? `${n.skipped} not tested` : "",
      ].filter(Boolean);
      return [{ text: `${n.pass} of ${out.checks.length} checks passed${extra.length ? `, ${extra.join(", ")}` : ""} (details below)` }];
    }
  }
}
