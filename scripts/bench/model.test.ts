// The bench's yardsticks: critical path and minimum requests from a plan and a latency profile.
import { describe, expect, it } from "vitest";
import {
  chainOf,
  countRequests,
  criticalPath,
  lroObservedMs,
  minimumRequests,
  throttleFloorMs,
  totalOf,
  type ModelLatency,
  type PlanLine,
} from "./model";
import { buildRunConfig, buildScenario, BENCH_SHAPES } from "./scenarios";

const L: ModelLatency = {
  armRead: 100,
  armWrite: 500,
  graphRead: 100,
  graphWrite: 300,
  other: 50,
  storageLroMs: 1250,
  providerRegistrationMs: 3000,
  replicationMs: 1000,
  writeBurst: 200,
  writeRefillPerSecond: 10,
};
const SUB = "11111111-2222-4333-8444-555555555555";

const line = (stepId: string, resourceType: string, action: string, key = `${stepId}.${resourceType}`): PlanLine => ({
  stepId,
  resourceType,
  action,
  key,
});

/** A fresh tenant: one region, one cluster, everything to create (what planRun returns for the small scenario, trimmed). */
const fresh: PlanLine[] = [
  line("storage", "Resource provider", "no-change"),
  line("storage", "Resource group", "create"),
  line("storage", "Storage account", "create"),
  line("storage", "Lifecycle policy", "create"),
  line("diagnostic-settings", "Diagnostic setting", "create", `diagnostic-settings.setting:/subscriptions/${SUB}/x`),
  line("app-registration", "Service principal", "no-change", "app-registration.log-analytics-service-principal:x"),
  line("app-registration", "App registration", "create"),
  line("app-registration", "Service principal", "create", "app-registration.service-principal:x"),
  line("app-registration", "Admin consent", "grant"),
  line("app-registration", "Client secret", "create"),
  line("custom-role", "Custom role", "create"),
  line("role-assignments", "Role assignment", "create", `role-assignments.a:/subscriptions/${SUB}`),
  line("role-assignments", "Role assignment", "create", `role-assignments.b:/subscriptions/${SUB}`),
  line("workbench-handoff", "Workbench device", "create", "workbench-handoff.device:x"),
];

const ORDER = ["storage", "diagnostic-settings", "app-registration", "custom-role", "role-assignments", "workbench-handoff"];
const CHAIN = chainOf(ORDER);
// The portal's step graph (lib/steps/registry STEP_NEEDS, verification left out).
const GRAPH = {
  storage: [],
  "diagnostic-settings": ["storage"],
  "app-registration": [],
  "custom-role": [],
  "role-assignments": ["storage", "app-registration", "custom-role"],
  "workbench-handoff": ["storage", "app-registration", "role-assignments"],
};

describe("criticalPath", () => {
  it("chains each step's read, dependent writes, LRO and replication waits, and verify", () => {
    const cp = criticalPath(fresh, L, CHAIN);
    // read 100 + group 500 + account 500 + LRO 2000 + poll and final GET 200 + policy 500 + verify 100
    expect(cp.steps.storage).toBe(100 + 500 + 500 + 2000 + 200 + 500 + 100);
    expect(cp.steps["diagnostic-settings"]).toBe(100 + 500 + 100);
    // read 100 + app 300 + SP after replication max(300, 1000) + grant 300 + verify 100
    expect(cp.steps["app-registration"]).toBe(100 + 300 + 1000 + 300 + 100);
    expect(cp.steps["custom-role"]).toBe(100 + 500 + 100);
    // the new role is usable 1000 ms after its PUT; two reads (200 ms) already passed
    expect(cp.steps["role-assignments"]).toBe(100 + 800 + 100);
    expect(cp.steps["workbench-handoff"]).toBe(150);
    expect(cp.totalMs).toBe(Object.values(cp.steps).reduce((a, b) => a + b, 0));
    expect(cp.path).toEqual(ORDER);
  });

  it("starts each step once its needs are done: the longest chain of the graph, not the sum", () => {
    const cp = criticalPath(fresh, L, GRAPH);
    const storage = 100 + 500 + 500 + 2000 + 200 + 500 + 100;
    expect(cp.finishMs["diagnostic-settings"]).toBe(storage + 700);
    expect(cp.finishMs["app-registration"]).toBe(1800);
    expect(cp.finishMs["custom-role"]).toBe(700);
    // The role defined at 600 ms is long usable when storage ends: the assignments take their own 700 ms.
    expect(cp.steps["role-assignments"]).toBe(700);
    expect(cp.finishMs["role-assignments"]).toBe(storage + 700);
    expect(cp.totalMs).toBe(storage + 700 + 150);
    expect(cp.path).toEqual(["storage", "role-assignments", "workbench-handoff"]);
    expect(cp.totalMs).toBeLessThan(criticalPath(fresh, L, CHAIN).totalMs);
  });

  it("waits for a role defined in this run wherever the role's step sits on the graph", () => {
    // Role assignments needing only the custom role: they start at 700 ms, the role is assignable at 600 + 1000 ms.
    const cp = criticalPath(fresh, L, { "custom-role": [], "role-assignments": ["custom-role"] });
    expect(cp.finishMs["role-assignments"]).toBe(1600 + 100);
  });

  it("rejects a graph with a cycle", () => {
    expect(() => criticalPath(fresh, L, { storage: ["custom-role"], "custom-role": ["storage"] })).toThrow(/cycle/);
  });

  it("is reads only when nothing has to change", () => {
    const done = fresh.map((l) => ({ ...l, action: "no-change" }));
    const cp = criticalPath(done, L, CHAIN);
    expect(cp.steps.storage).toBe(2 * 100 + 100);
    expect(cp.steps["diagnostic-settings"]).toBe(200);
    expect(cp.steps["app-registration"]).toBe(3 * 100 + 100);
    expect(cp.steps["role-assignments"]).toBe(200);
  });

  it("adds ARM's write budget as a floor when one subscription gets more writes than the burst", () => {
    const many = Array.from({ length: 260 }, (_, i) =>
      line("diagnostic-settings", "Diagnostic setting", "create", `diagnostic-settings.setting:/subscriptions/${SUB}/c${i}`),
    );
    expect(criticalPath(many, L, CHAIN).steps["diagnostic-settings"]).toBe(6000);
    expect(throttleFloorMs(new Map([[SUB, 200]]), L)).toBe(0);
    expect(throttleFloorMs(new Map([[SUB, 210]]), L)).toBe(1000);
  });

  it("rounds an LRO up to ARM's whole-second Retry-After", () => {
    expect([lroObservedMs(300), lroObservedMs(1000), lroObservedMs(1250)]).toEqual([1000, 1000, 2000]);
  });
});

describe("minimumRequests", () => {
  it("counts a read, the needed writes, LRO polls and a verification per resource", () => {
    const m = minimumRequests(fresh);
    // provider GET; group GET + PUT; account GET, name check, PUT, poll, final GET, verify GET; policy PUT + verify GET
    expect(m.storage).toEqual({ armReads: 1 + 1 + 5 + 1, armWrites: 3, graphReads: 0, graphWrites: 0, workbench: 0 });
    expect(m["diagnostic-settings"]).toEqual({ armReads: 2, armWrites: 1, graphReads: 0, graphWrites: 0, workbench: 0 });
    // LA SP GET; app GET + verify; new SP and consent: verify only
    expect(m["app-registration"]).toEqual({ armReads: 0, armWrites: 0, graphReads: 1 + 2 + 1 + 1, graphWrites: 4, workbench: 0 });
    // one list per subscription before and after, whatever the number of scopes in it
    expect(m["role-assignments"]).toEqual({ armReads: 2, armWrites: 2, graphReads: 0, graphWrites: 0, workbench: 0 });
    expect(m["workbench-handoff"]?.workbench).toBe(3);
    expect(totalOf(m["workbench-handoff"] ?? { armReads: 0, armWrites: 0, graphReads: 0, graphWrites: 0, workbench: 0 })).toBe(0);
  });

  it("reads each cluster a role assignment goes on once, and lists each subscription's assignments once", () => {
    const cluster = (sub: string, n: number) =>
      `/subscriptions/${sub}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-${n}`;
    const other = "66666666-7777-4888-8999-000000000000";
    const m = minimumRequests([
      line("role-assignments", "Role assignment", "create", `role-assignments.a:${cluster(SUB, 1)}`),
      line("role-assignments", "Role assignment", "create", `role-assignments.a:${cluster(SUB, 2)}`),
      line("role-assignments", "Role assignment", "create", `role-assignments.b:/subscriptions/${SUB}`),
      line("role-assignments", "Role assignment", "create", `role-assignments.a:${cluster(other, 3)}`),
    ]);
    // three cluster reads; a list before and after in each of the two subscriptions
    expect(m["role-assignments"]).toEqual({ armReads: 3 + 2 * 2, armWrites: 4, graphReads: 0, graphWrites: 0, workbench: 0 });
  });

  it("lists a subscription's clusters once from eight of them", () => {
    const cluster = (n: number) => `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks-${n}`;
    const lines = (count: number) =>
      Array.from({ length: count }, (_, n) => line("role-assignments", "Role assignment", "create", `role-assignments.a:${cluster(n)}`));
    expect(minimumRequests(lines(7))["role-assignments"]?.armReads).toBe(7 + 2);
    expect(minimumRequests(lines(8))["role-assignments"]?.armReads).toBe(1 + 2);
  });

  it("needs no writes for a finished run", () => {
    const m = minimumRequests(fresh.map((l) => ({ ...l, action: "no-change" })));
    expect(Object.values(m).reduce((a, c) => a + c.armWrites + c.graphWrites, 0)).toBe(0);
  });
});

describe("countRequests", () => {
  it("splits the simulator's log by service and counts read-only POST actions as reads", () => {
    const c = countRequests([
      { method: "GET", url: "/subscriptions/x/resourcegroups/rg?api-version=1", status: 200, caller: "u" },
      { method: "POST", url: "/subscriptions/x/providers/Microsoft.Storage/checkNameAvailability?api-version=1", status: 200, caller: "u" },
      { method: "PUT", url: "/subscriptions/x/resourcegroups/rg?api-version=1", status: 429, caller: "u" },
      { method: "PATCH", url: "/v1.0/applications(uniqueName='x')", status: 201, caller: "u" },
      { method: "GET", url: "/v1.0/servicePrincipals", status: 200, caller: "u" },
      { method: "POST", url: "/workbench/api/v1/security-devices", status: 201, caller: "workbench" },
    ]);
    expect(c).toEqual({ armReads: 2, armWrites: 1, graphReads: 1, graphWrites: 1, workbench: 1, throttled: 1 });
  });
});

describe("scenarios", () => {
  it("builds valid scenarios and runs of the documented sizes", () => {
    for (const shape of BENCH_SHAPES) {
      const scenario = buildScenario(shape);
      const config = buildRunConfig(scenario);
      expect(scenario.subscriptions).toHaveLength(shape.subscriptions);
      expect(config.clusters).toHaveLength(shape.clusters);
      expect(config.storage).toHaveLength(shape.regions);
      expect(new Set(config.clusters.map((c) => c.id)).size).toBe(shape.clusters);
    }
    expect(buildScenario(BENCH_SHAPES[0]!)).toEqual(buildScenario(BENCH_SHAPES[0]!));
  });
});
