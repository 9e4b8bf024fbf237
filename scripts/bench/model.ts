// The benchmark's yardsticks, computed from a run's plan and the latency profile: the critical path and the minimum requests.

/** A planned change as the bench needs it (a subset of lib/steps/types PlannedChange). */
export interface PlanLine {
  stepId: string;
  key: string;
  resourceType: string;
  action: string;
}

/** The scaled profile the simulator applies, in ms. */
export interface ModelLatency {
  armRead: number;
  armWrite: number;
  graphRead: number;
  graphWrite: number;
  /** Workbench (vendor API) requests. */
  other: number;
  storageLroMs: number;
  providerRegistrationMs: number;
  replicationMs: number;
  /** ARM writes per subscription: burst and refill per second. */
  writeBurst: number;
  writeRefillPerSecond: number;
}

/** Requests by service. */
export interface RequestCount {
  armReads: number;
  armWrites: number;
  graphReads: number;
  graphWrites: number;
  workbench: number;
}

const WRITE_ACTIONS = new Set(["create", "update", "register", "grant"]);
const writes = (l: PlanLine) => WRITE_ACTIONS.has(l.action);
const ofStep = (plan: readonly PlanLine[], stepId: string) => plan.filter((l) => l.stepId === stepId);
const ofType = (lines: readonly PlanLine[], type: string) => lines.filter((l) => l.resourceType === type);

/**
 * How long an LRO client that honours Retry-After waits: ARM's Retry-After is whole seconds (at least 1), and the
 * simulator (like Azure) announces the remaining time rounded up, so the first status poll lands at ceil(duration).
 */
export function lroObservedMs(durationMs: number): number {
  return Math.max(1000, Math.ceil(durationMs / 1000) * 1000);
}

/** Subscription id of a role-assignment / register plan key (`…:/subscriptions/{id}…`). */
function subscriptionOfKey(key: string): string | undefined {
  return /\/subscriptions\/([0-9a-f-]{36})/i.exec(key)?.[1]?.toLowerCase();
}

/** Waiting time forced by ARM's write bucket when one subscription gets more writes than its burst. */
export function throttleFloorMs(writesBySubscription: ReadonlyMap<string, number>, l: ModelLatency): number {
  let worst = 0;
  for (const n of writesBySubscription.values()) worst = Math.max(worst, n - l.writeBurst);
  return worst > 0 ? Math.ceil((worst / l.writeRefillPerSecond) * 1000) : 0;
}

/** Steps and what each needs done before it starts (lib/steps/registry STEP_NEEDS, or a chain for one step after another). */
export type StepNeeds = Readonly<Record<string, readonly string[]>>;

/** Each step needing the one before it: the engine before it ran steps by dependency. */
export function chainOf(order: readonly string[]): StepNeeds {
  return Object.fromEntries(order.map((id, i) => [id, i > 0 ? [order[i - 1] ?? ""] : []]));
}

/** The run's critical path on a step graph (ms). */
export interface CriticalPath {
  /** How long each step takes once started (role assignments: including its wait for a role defined in this run). */
  steps: Record<string, number>;
  /** When each step ends if it starts the moment its needs are done. */
  finishMs: Record<string, number>;
  /** The latest finish: the run's critical path. */
  totalMs: number;
  /** The steps along that path, first to last. */
  path: string[];
}

/**
 * The longest chain of dependent requests of a run: each step starts once the steps it needs are done, with unlimited
 * parallelism inside a step but ARM's write budget per subscription as a floor. Per step: read (all reads of a step are
 * independent) → writes in dependency order (+ LRO / replication waits) → verify read. A role defined in this run is
 * assignable replicationMs after its PUT, wherever the two steps sit on the graph.
 */
export function criticalPath(plan: readonly PlanLine[], l: ModelLatency, needs: StepNeeds): CriticalPath {
  const alone = stepDurations(plan, l);
  const steps: Record<string, number> = {};
  const finishMs: Record<string, number> = {};
  const via: Record<string, string | undefined> = {};
  const roleWritten = ofStep(plan, "custom-role").some(writes);
  const visit = (id: string, seen: readonly string[]): number => {
    const known = finishMs[id];
    if (known !== undefined) return known;
    if (seen.includes(id)) throw new Error(`step graph has a cycle through ${id}`);
    let start = 0;
    for (const n of needs[id] ?? []) {
      const f = visit(n, [...seen, id]);
      if (f > start || via[id] === undefined) {
        start = Math.max(start, f);
        via[id] = n;
      }
    }
    let duration = alone[id] ?? 0;
    const ra = alone["role-assignments"];
    if (id === "role-assignments" && ra !== undefined && roleWritten && ofStep(plan, id).some(writes)) {
      // The role's PUT ended one verify read before its step finished; the assignment PUT is handled replicationMs later.
      const roleFinish = visit("custom-role", [...seen, id]);
      const usable = roleFinish - l.armRead + l.replicationMs;
      duration = Math.max(ra, usable - start + l.armRead);
    }
    steps[id] = duration;
    finishMs[id] = start + duration;
    return start + duration;
  };
  for (const id of [...Object.keys(needs), ...Object.keys(alone)]) visit(id, []);
  let last: string | undefined;
  for (const [id, f] of Object.entries(finishMs)) if (last === undefined || f > (finishMs[last] ?? 0)) last = id;
  const path: string[] = [];
  for (let id = last; id !== undefined; id = via[id]) if ((steps[id] ?? 0) > 0 || path.length === 0) path.unshift(id);
  for (const id of Object.keys(steps)) if (!alone[id] && !steps[id]) delete steps[id];
  return { steps, finishMs, totalMs: last === undefined ? 0 : (finishMs[last] ?? 0), path };
}

/** Each step's own duration (ms) when it has the API to itself; role assignments without the wait for a new role. */
function stepDurations(plan: readonly PlanLine[], l: ModelLatency): Record<string, number> {
  const steps: Record<string, number> = {};

  // Storage: GET group ∥ GET account ∥ checkNameAvailability; then [PUT group] → PUT account → LRO → status poll → final
  // GET → PUT lifecycle policy; provider registration (POST → wait → GET) runs beside it; verify GETs in parallel.
  const storage = ofStep(plan, "storage");
  if (storage.length) {
    const groupCreate = ofType(storage, "Resource group").some(writes);
    const accountLines = ofType(storage, "Storage account");
    const accountCreate = accountLines.some((a) => a.action === "create");
    const accountUpdate = accountLines.some((a) => a.action === "update");
    const accountExists = accountLines.some((a) => a.action !== "create");
    const firewall = ofType(storage, "Storage firewall").some(writes);
    const policy = ofType(storage, "Lifecycle policy").some(writes);
    const read = accountExists ? 2 * l.armRead : l.armRead; // an existing account's lifecycle policy is read after the account
    let chain = groupCreate ? l.armWrite : 0;
    if (accountCreate) chain += l.armWrite + lroObservedMs(l.storageLroMs) + 2 * l.armRead;
    else if (accountUpdate) chain += l.armWrite;
    if (firewall) chain += l.armWrite;
    if (policy) chain += l.armWrite;
    const register = ofType(storage, "Resource provider").some(writes)
      ? l.armWrite + lroObservedMs(l.providerRegistrationMs) + l.armRead
      : 0;
    steps.storage = read + Math.max(chain, register) + l.armRead;
  }

  // Diagnostic settings: list → PUT → list, every cluster in parallel; ARM's write budget as a floor.
  const diag = ofStep(plan, "diagnostic-settings");
  if (diag.length) {
    const path = l.armRead + (diag.some(writes) ? l.armWrite : 0) + l.armRead;
    steps["diagnostic-settings"] = Math.max(path, throttleFloorMs(writesBySubscription(diag), l));
  }

  // App registration: GET app ∥ GET Log Analytics SP → [POST LA SP] → PATCH app → (replication) POST SP → POST grant;
  // addPassword beside the SP; verify GETs in parallel.
  const app = ofStep(plan, "app-registration");
  if (app.length) {
    const appWrite = ofType(app, "App registration").some(writes);
    const appCreatedNow = ofType(app, "App registration").some((x) => x.action === "create");
    const spLines = ofType(app, "Service principal");
    const laCreate = spLines.some((x) => x.key.includes("log-analytics") && writes(x));
    const spCreate = spLines.some((x) => !x.key.includes("log-analytics") && writes(x));
    const grant = ofType(app, "Admin consent").some(writes);
    const secret = ofType(app, "Client secret").some(writes);
    // An existing app: its SP and grants are read after it (GET app → GET SP → GET its app role assignments).
    const read = appWrite && appCreatedNow ? l.graphRead : 3 * l.graphRead;
    let chain = laCreate ? l.graphWrite : 0;
    chain += appWrite ? l.graphWrite : 0;
    // The SP create succeeds only once the new app has replicated: max(its own latency, the window).
    const spPart = (spCreate ? (appCreatedNow ? Math.max(l.graphWrite, l.replicationMs) : l.graphWrite) : 0) + (grant ? l.graphWrite : 0);
    chain += Math.max(spPart, secret ? l.graphWrite : 0);
    steps["app-registration"] = read + chain + l.graphRead;
  }

  // Custom roles: GET → PUT → GET, the roles side by side.
  const role = ofStep(plan, "custom-role");
  if (role.length) steps["custom-role"] = l.armRead + (role.some(writes) ? l.armWrite : 0) + l.armRead;

  // Role assignments: a list per subscription → PUTs in parallel → a list per subscription; the new role's wait is added on the graph.
  const ra = ofStep(plan, "role-assignments");
  if (ra.length) {
    const put = ra.some(writes) ? l.armWrite : 0;
    steps["role-assignments"] = l.armRead + Math.max(put, throttleFloorMs(writesBySubscription(ra), l)) + l.armRead;
  }

  // Hand-off: list devices → POST device → list devices.
  const handoff = ofStep(plan, "workbench-handoff");
  if (handoff.length) steps["workbench-handoff"] = l.other + (handoff.some(writes) ? l.other : 0) + l.other;
  return steps;
}

function writesBySubscription(lines: readonly PlanLine[]): Map<string, number> {
  const bySub = new Map<string, number>();
  for (const x of lines.filter(writes)) {
    const sub = subscriptionOfKey(x.key);
    if (sub) bySub.set(sub, (bySub.get(sub) ?? 0) + 1);
  }
  return bySub;
}

const zero = (): RequestCount => ({ armReads: 0, armWrites: 0, graphReads: 0, graphWrites: 0, workbench: 0 });

/** Sum of request counts. */
export function totalOf(c: RequestCount, withWorkbench = false): number {
  return c.armReads + c.armWrites + c.graphReads + c.graphWrites + (withWorkbench ? c.workbench : 0);
}

/** As in lib/steps/role-assignments.ts (which the bench can't import: it is server-only). */
const LIST_CLUSTERS_FROM = 8;

/**
 * The fewest requests a correct run of this plan makes: every resource read once before writing (state may have changed
 * since the plan), each needed write once, an LRO's status poll and final GET, and one verification read per resource.
 * Role assignments are read and verified with one list per subscription (the vendor principal's, at and below it), each
 * cluster they go on read once (one list for a subscription with LIST_CLUSTERS_FROM of them or more); a new SP's consent
 * is known absent without a read.
 */
export function minimumRequests(plan: readonly PlanLine[]): Record<string, RequestCount> {
  const out: Record<string, RequestCount> = {};
  const add = (stepId: string, k: keyof RequestCount, n: number) => {
    out[stepId] ??= zero();
    out[stepId][k] += n;
  };
  const appCreated = plan.some((x) => x.resourceType === "App registration" && x.action === "create");
  const raSubscriptions = new Set<string>();
  const clusterScopes = new Set<string>();
  for (const x of plan) {
    const w = writes(x) ? 1 : 0;
    switch (x.resourceType) {
      case "Resource provider":
        add(x.stepId, "armReads", 1 + w); // GET, and a poll until Registered
        add(x.stepId, "armWrites", w);
        break;
      case "Resource group":
        add(x.stepId, "armReads", 1);
        add(x.stepId, "armWrites", w);
        break;
      case "Storage account":
        // GET; a new name is checked (checkNameAvailability); create = PUT + status poll + final GET; verify GET.
        add(x.stepId, "armReads", 1 + (x.action === "create" ? 1 + 2 : 0) + 1);
        add(x.stepId, "armWrites", w);
        break;
      case "Storage firewall":
        add(x.stepId, "armWrites", w);
        break;
      case "Lifecycle policy":
        // Read only when the account already existed (a new account has none); verify GET.
        add(x.stepId, "armReads", (x.action === "create" ? 0 : 1) + 1);
        add(x.stepId, "armWrites", w);
        break;
      case "Diagnostic setting":
      case "Custom role":
        add(x.stepId, "armReads", 2);
        add(x.stepId, "armWrites", w);
        break;
      case "Role assignment": {
        const scope = x.key.split(":").slice(1).join(":").toLowerCase();
        raSubscriptions.add(/^\/subscriptions\/([^/]+)/.exec(scope)?.[1] ?? scope);
        // A cluster's role depends on its Entra integration, read at execution (it may have changed since the plan).
        if (/\/managedclusters\/[^/]+$/.test(scope)) clusterScopes.add(scope);
        add(x.stepId, "armWrites", w);
        break;
      }
      case "App registration":
        add(x.stepId, "graphReads", 2);
        add(x.stepId, "graphWrites", w);
        break;
      case "Service principal":
      case "Admin consent": {
        const ours = !x.key.includes("log-analytics");
        // The new app's SP and its consent are known absent; verify reads them once.
        add(x.stepId, "graphReads", (ours && appCreated ? 0 : 1) + (ours ? 1 : 0));
        add(x.stepId, "graphWrites", w);
        break;
      }
      case "Client secret":
        add(x.stepId, "graphWrites", w);
        break;
      case "Workbench device":
        if (x.key !== "workbench-handoff.manual") add(x.stepId, "workbench", 2 + w);
        break;
      default:
        break;
    }
  }
  if (raSubscriptions.size) add("role-assignments", "armReads", 2 * raSubscriptions.size);
  const clustersBySubscription = new Map<string, number>();
  for (const scope of clusterScopes) {
    const sub = /^\/subscriptions\/([^/]+)/.exec(scope)?.[1] ?? scope;
    clustersBySubscription.set(sub, (clustersBySubscription.get(sub) ?? 0) + 1);
  }
  // One list of a subscription's clusters from LIST_CLUSTERS_FROM of them (lib/steps/role-assignments.ts), else a GET each.
  for (const n of clustersBySubscription.values()) add("role-assignments", "armReads", n >= LIST_CLUSTERS_FROM ? 1 : n);
  return out;
}

/** A logged simulator request, as GET /_sim/requests returns it. */
export interface LoggedRequest {
  method: string;
  url: string;
  status: number;
  caller: string | null;
}

/** Classify logged requests by service, the way minimumRequests counts them (POST actions that only read count as reads). */
export function countRequests(log: readonly LoggedRequest[]): RequestCount & { throttled: number } {
  const c = { ...zero(), throttled: 0 };
  for (const r of log) {
    const path = r.url.split("?")[0] ?? "";
    if (r.status === 429) c.throttled += 1;
    if (path.startsWith("/workbench")) {
      c.workbench += 1;
      continue;
    }
    const read = r.method === "GET" || r.method === "HEAD" || /\/(checkNameAvailability|listKeys)$/i.test(path);
    if (path.startsWith("/v1.0")) c[read ? "graphReads" : "graphWrites"] += 1;
    else c[read ? "armReads" : "armWrites"] += 1;
  }
  return c;
}
