// Test-only: a PGlite database per test file, running runs, and fake steps over an in-memory "Azure".
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, vi } from "vitest";
import { AzureOperationError } from "@/lib/azure/errors";
import {
  closeDb,
  configureDb,
  confirmRunPlan,
  createRun,
  migrate,
  setRunPlan,
  setRunStatus,
  upsertUser,
  type SessionWithUser,
  type OnboardingRunWithSteps,
} from "@/lib/db";
import type { RunConfig } from "@/lib/steps/config";
import { STEP_IDS, type StepId } from "@/lib/steps/registry";
import type { StepContext, StepModule } from "@/lib/steps/types";
import type { StepModules } from "@/lib/engine/execute-step";
import type { TokenProvider } from "@/lib/auth/tokens";
import { testDbOptions } from "./pglite-template";

/** Opens a fresh PGlite database under .test-data for this test file and sets the configuration env() needs. */
export function setupEngineDb(label: string): void {
  // Before the first env() call (encryptionKey): env() caches its first parse.
  vi.stubEnv("ENCRYPTION_KEY", crypto.randomBytes(32).toString("base64"));
  vi.stubEnv("ENTRA_CLIENT_ID", "00000000-0000-4000-8000-000000000001");
  vi.stubEnv("ENTRA_CLIENT_SECRET", "test-secret");
  const dataDir = path.join(".test-data", `engine-${label}-${crypto.randomBytes(4).toString("hex")}`);
  // No own timeout: vitest.config's hookTimeout covers a fresh PGlite folder made while other files make theirs.
  beforeAll(async () => {
    configureDb(testDbOptions(dataDir));
    await migrate();
  });
  afterAll(async () => {
    await closeDb();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });
}

/** The tenant of testConfig(). */
export const TENANT = "11111111-1111-4111-8111-111111111111";
const SUB = "22222222-2222-4222-8222-222222222222";
/** The acting admin of every test execution. */
export const ACTOR = { userId: null, upn: "admin@contoso.example" };

/** A config that passes runConfigSchema. */
export function testConfig(): RunConfig {
  return {
    tenantId: TENANT,
    subscriptions: [{ id: SUB, displayName: "Contoso Production" }],
    clusters: [
      {
        id: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1`,
        name: "aks1",
        subscriptionId: SUB,
        resourceGroup: "rg",
        location: "eastus",
      },
    ],
    storage: [
      {
        region: "eastus",
        subscriptionId: SUB,
        resourceGroup: "rg-audit",
        createResourceGroup: true,
        accountName: "stauditeastus01",
        adopt: false,
      },
    ],
    options: { restrictNetwork: false, retentionDays: 30, secretLifetimeDays: 180 },
    vendor: { name: "Vendor", appUniqueName: "vendor-aks-audit", appDisplayName: "Vendor AKS audit reader", egressIps: [] },
  };
}

/** A confirmed, running run of the six steps in a tenant of its own (or `tenantId`). */
export async function runningRun(tenantId: string = crypto.randomUUID()): Promise<OnboardingRunWithSteps> {
  await upsertUser({ tenantId, objectId: crypto.randomUUID(), upn: ACTOR.upn, displayName: "Admin" });
  const run = await createRun({
    tenantId,
    createdByUserId: null,
    createdByUpn: ACTOR.upn,
    config: { ...testConfig(), tenantId },
    steps: STEP_IDS,
  });
  await setRunPlan(run.id, { steps: [] });
  await confirmRunPlan(run.id, ACTOR.upn);
  await setRunStatus(run.id, "running", { from: ["planned"] });
  return run;
}

/** Tokens that always work. */
export const okTokens: TokenProvider = () => Promise.resolve({ ok: true, token: "token", expiresOn: new Date(Date.now() + 3_600_000) });

/** Remote resources by name, with a count of creates: what "Azure" holds. */
export class FakeAzure {
  readonly resources = new Map<string, { id: string }>();
  creates = 0;
  create(name: string): { id: string } {
    if (this.resources.has(name)) throw new AzureOperationError("conflict", `${name} already exists`);
    this.creates += 1;
    const resource = { id: `/fake/${name}` };
    this.resources.set(name, resource);
    return resource;
  }
}

/** Hooks a test uses to make one fake step misbehave. */
export interface FakeStepHooks {
  /** Called at the start of every read (count reads, throw). */
  onRead?: (ctx: StepContext) => void | Promise<void>;
  /** Called before apply writes (throw to fail the attempt). */
  beforeWrite?: (ctx: StepContext) => void | Promise<void>;
  /** Runs inside the remote write, after the resource exists. */
  afterCreate?: () => Promise<void>;
}

/** What a fake step reads: its one resource, if it exists. */
export interface FakeLive {
  existing: { id: string } | null;
}

/** A step that ensures one resource named `${stepId}-res` exists: reads first, creates only when missing. */
export function fakeStep(
  stepId: StepId,
  azure: FakeAzure,
  hooks: FakeStepHooks = {},
): StepModule<FakeLive, { resourceId: string; upstream: string[] }> {
  const name = `${stepId}-res`;
  return {
    id: stepId,
    async read(ctx) {
      await hooks.onRead?.(ctx);
      return { existing: azure.resources.get(name) ?? null };
    },
    plan(ctx, live) {
      return [
        {
          stepId,
          key: `${stepId}.create:${name}`,
          action: live.existing ? "no-change" : "create",
          resourceType: "Fake",
          resource: name,
          why: "test",
        },
      ];
    },
    async apply(ctx, live) {
      let resource = live.existing;
      if (!resource) {
        await hooks.beforeWrite?.(ctx);
        resource = await ctx.write(
          { key: `${stepId}.create:${name}`, kind: "create", target: name },
          async () => {
            const created = azure.create(name);
            await hooks.afterCreate?.();
            return created;
          },
          (r) => r.id,
        );
      }
      return { resourceId: resource.id, upstream: Object.keys(ctx.outputs) };
    },
    async verify(_ctx, out) {
      return azure.resources.get(name)?.id === out.resourceId
        ? { ok: true, checks: ["exists"] }
        : { ok: false, reason: `${name} is missing` };
    },
  };
}

/** All six steps as fakes over one FakeAzure; `overrides` replaces some. */
export function fakeModules(azure: FakeAzure, overrides: Partial<Record<StepId, StepModule>> = {}): StepModules {
  const modules = Object.fromEntries(STEP_IDS.map((id) => [id, overrides[id] ?? fakeStep(id, azure)])) as Record<StepId, StepModule>;
  return modules;
}

/** A fake clock and sleep: sleeping advances the clock instantly and records the delay. */
export function fakeTime(): { now: () => number; sleep: (ms: number) => Promise<void>; sleeps: number[] } {
  let t = 1_000_000;
  const sleeps: number[] = [];
  return {
    now: () => t,
    sleep: (ms) => {
      sleeps.push(ms);
      t += ms;
      return Promise.resolve();
    },
    sleeps,
  };
}

/** A real wait, for lease expiry and heartbeat timing. */
export const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A signed-in session as server-side code receives one (tests pass it in, no cookie), its user row made. */
export async function newSession(who: { tenantId: string; upn: string; displayName?: string }): Promise<SessionWithUser> {
  const user = await upsertUser({
    tenantId: who.tenantId,
    objectId: crypto.randomUUID(),
    upn: who.upn,
    displayName: who.displayName ?? who.upn,
  });
  const now = new Date();
  return {
    tokenHash: crypto.randomBytes(32).toString("hex"),
    userId: user.id,
    homeAccountId: "h",
    tokenCache: "",
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + 3_600_000),
    user,
  };
}
