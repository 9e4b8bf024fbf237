// Writes realistic AKS kube-audit resource logs into the storage account of each cluster's diagnostic setting,
// at the blob path and in the envelope Azure Monitor uses, so the vendor side can be exercised without Azure.
import crypto from "node:crypto";
import type { ArmResource } from "../contract";
import type { SimState } from "../state";
import { SharedKeyBlobClient } from "./shared-key-client";

export const KUBE_AUDIT_CONTAINER = "insights-logs-kube-audit";

export interface AuditTarget {
  /** The cluster's ARM id as ARM returns it. */
  clusterId: string;
  accountName: string;
}

const DIAG_SUFFIX = /\/providers\/microsoft\.insights\/diagnosticsettings\/[^/]+$/i;
const CLUSTER_ID = /^\/subscriptions\/[^/]+\/resourcegroups\/[^/]+\/providers\/microsoft\.containerservice\/managedclusters\/[^/]+$/i;

/** kube-audit is enabled by its own category or by the "audit"/"allLogs" category groups. */
function kubeAuditEnabled(logs: unknown): boolean {
  if (!Array.isArray(logs)) return false;
  return logs.some((l: { category?: unknown; categoryGroup?: unknown; enabled?: unknown }) => {
    if (l?.enabled !== true) return false;
    if (typeof l.category === "string") return l.category.toLowerCase() === "kube-audit";
    return typeof l.categoryGroup === "string" && ["audit", "alllogs"].includes(l.categoryGroup.toLowerCase());
  });
}

/** Every (cluster, storage account) pair that should receive kube-audit logs now. */
export function auditTargets(state: SimState): AuditTarget[] {
  const targets: AuditTarget[] = [];
  for (const r of state.arm.values()) {
    if (r.type.toLowerCase() !== "microsoft.insights/diagnosticsettings") continue;
    const clusterPart = r.id.replace(DIAG_SUFFIX, "");
    if (clusterPart === r.id || !CLUSTER_ID.test(clusterPart)) continue;
    const cluster = state.getArm(clusterPart);
    const props = r.properties as { storageAccountId?: unknown; logs?: unknown };
    if (!cluster || typeof props.storageAccountId !== "string" || !kubeAuditEnabled(props.logs)) continue;
    // Delivery needs the destination account to exist, as in Azure.
    const account = state.getArm(props.storageAccountId);
    if (!account) continue;
    targets.push({ clusterId: cluster.id, accountName: account.name.toLowerCase() });
  }
  return targets;
}

/** resourceId=/SUBSCRIPTIONS/…/MANAGEDCLUSTERS/NAME/y=YYYY/m=MM/d=DD/h=HH/m=00/PT1H.json (AKS upper-cases the id). */
export function kubeAuditBlobName(clusterId: string, at: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `resourceId=${clusterId.toUpperCase()}/y=${at.getUTCFullYear()}/m=${p(at.getUTCMonth() + 1)}/d=${p(at.getUTCDate())}/h=${p(at.getUTCHours())}/m=00/PT1H.json`;
}

/** Azure Monitor timestamps carry 7 fractional digits. */
const azureTime = (d: Date) => d.toISOString().replace(/\.(\d{3})Z$/, ".$10000Z");
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)] as T;

interface AuditTemplate {
  verb: string;
  uri: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  apiGroup?: string;
  user: "admin" | "controller" | "kubelet" | "coredns" | "anonymous";
  code: number;
}

const TEMPLATES: readonly AuditTemplate[] = [
  { verb: "list", uri: "/api/v1/namespaces/default/pods?limit=500", resource: "pods", namespace: "default", user: "admin", code: 200 },
  {
    verb: "get",
    uri: "/api/v1/namespaces/kube-system/secrets/bootstrap-token-abcdef",
    resource: "secrets",
    namespace: "kube-system",
    name: "bootstrap-token-abcdef",
    user: "admin",
    code: 200,
  },
  {
    verb: "create",
    uri: "/api/v1/namespaces/payments/pods/api-7c9d8-qx2lp/exec?command=sh&stdin=true&stdout=true&tty=true",
    resource: "pods",
    namespace: "payments",
    name: "api-7c9d8-qx2lp",
    subresource: "exec",
    user: "admin",
    code: 101,
  },
  {
    verb: "delete",
    uri: "/apis/apps/v1/namespaces/payments/deployments/api",
    resource: "deployments",
    apiGroup: "apps",
    namespace: "payments",
    name: "api",
    user: "admin",
    code: 200,
  },
  {
    verb: "update",
    uri: "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager",
    resource: "leases",
    apiGroup: "coordination.k8s.io",
    namespace: "kube-system",
    name: "kube-controller-manager",
    user: "controller",
    code: 200,
  },
  {
    verb: "patch",
    uri: "/api/v1/nodes/aks-nodepool1-12345678-vmss000000/status?timeout=10s",
    resource: "nodes",
    name: "aks-nodepool1-12345678-vmss000000",
    subresource: "status",
    user: "kubelet",
    code: 200,
  },
  {
    verb: "watch",
    uri: "/api/v1/services?allowWatchBookmarks=true&resourceVersion=4821&timeout=8m37s&timeoutSeconds=517&watch=true",
    resource: "services",
    user: "coredns",
    code: 200,
  },
  {
    verb: "get",
    uri: "/api/v1/namespaces/kube-system/configmaps/cluster-info",
    resource: "configmaps",
    namespace: "kube-system",
    name: "cluster-info",
    user: "anonymous",
    code: 403,
  },
];

function auditEvent(t: AuditTemplate, at: Date, adminUpn: string): Record<string, unknown> {
  const users = {
    admin: { username: adminUpn, groups: ["system:authenticated"], extra: { oid: [crypto.randomUUID()] } },
    controller: { username: "system:kube-controller-manager", groups: ["system:authenticated"] },
    kubelet: { username: "system:node:aks-nodepool1-12345678-vmss000000", groups: ["system:nodes", "system:authenticated"] },
    coredns: {
      username: "system:serviceaccount:kube-system:coredns",
      groups: ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
      uid: crypto.randomUUID(),
    },
    anonymous: { username: "system:anonymous", groups: ["system:unauthenticated"] },
  } as const;
  const agents = {
    admin: "kubectl/v1.33.2 (linux/amd64) kubernetes/a57b6f7",
    controller: "kube-controller-manager/v1.33.2 (linux/amd64) kubernetes/a57b6f7/leader-election",
    kubelet: "kubelet/v1.33.2 (linux/amd64) kubernetes/a57b6f7",
    coredns: "coredns/v0.0.0 (linux/amd64) kubernetes/$Format",
    anonymous: "curl/8.5.0",
  } as const;
  const received = new Date(at.getTime() - 3 - Math.floor(Math.random() * 40));
  // Kubernetes writes RFC 3339 timestamps with microseconds.
  const micro = (d: Date) => d.toISOString().replace(/Z$/, `${String(Math.floor(Math.random() * 1000)).padStart(3, "0")}Z`);
  const allowed = t.code < 400;
  return {
    kind: "Event",
    apiVersion: "audit.k8s.io/v1",
    level: t.resource === "secrets" ? "Metadata" : "Request",
    auditID: crypto.randomUUID(),
    stage: "ResponseComplete",
    requestURI: t.uri,
    verb: t.verb,
    user: users[t.user],
    sourceIPs: [t.user === "anonymous" ? "203.0.113.45" : t.user === "admin" ? "198.51.100.23" : "10.224.0.4"],
    userAgent: agents[t.user],
    objectRef: {
      resource: t.resource,
      ...(t.namespace ? { namespace: t.namespace } : {}),
      ...(t.name ? { name: t.name } : {}),
      ...(t.apiGroup ? { apiGroup: t.apiGroup } : {}),
      apiVersion: "v1",
      ...(t.subresource ? { subresource: t.subresource } : {}),
    },
    responseStatus: allowed
      ? { metadata: {}, code: t.code }
      : {
          metadata: {},
          status: "Failure",
          message: `${t.resource} "${t.name ?? ""}" is forbidden: User "system:anonymous" cannot get resource "${t.resource}" in API group "" in the namespace "${t.namespace ?? ""}"`,
          reason: "Forbidden",
          details: { name: t.name, kind: t.resource },
          code: t.code,
        },
    requestReceivedTimestamp: micro(received),
    stageTimestamp: micro(at),
    annotations: {
      "authorization.k8s.io/decision": allowed ? "allow" : "forbid",
      "authorization.k8s.io/reason": allowed
        ? t.user === "admin"
          ? "Access allowed by Azure RBAC Role Assignment"
          : `RBAC: allowed by ClusterRoleBinding "system:${t.user}"`
        : "",
    },
  };
}

/** One JSON Lines batch of resource-log records for a cluster. */
export function kubeAuditBatch(
  cluster: ArmResource | { id: string; name: string },
  adminUpn: string,
  count = 3 + Math.floor(Math.random() * 5),
  now = new Date(),
): string {
  const clusterHash = crypto.createHash("sha256").update(cluster.id.toLowerCase()).digest("hex");
  const pod = `kube-apiserver-${clusterHash.slice(0, 10)}-${clusterHash.slice(10, 15)}`;
  const containerID = clusterHash;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = new Date(now.getTime() - (count - i) * 137);
    const event = auditEvent(pick(TEMPLATES), at, adminUpn);
    lines.push(
      JSON.stringify({
        time: azureTime(at),
        resourceId: cluster.id.toUpperCase(),
        category: "kube-audit",
        operationName: "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
        properties: { log: `${JSON.stringify(event)}\n`, stream: "stdout", pod, containerID },
        ccpNamespace: clusterHash.slice(0, 24),
        Cloud: "AzureCloud",
        Environment: "prod",
      }),
    );
  }
  return lines.map((l) => `${l}\n`).join("");
}

export interface KubeAuditWriter {
  /** Write one batch for every target now; returns the blob URLs written. */
  flush(): Promise<string[]>;
  /** Stop the timers; resolves when the write in flight (if any) has finished. */
  stop(): Promise<void>;
}

/** Start writing: a first batch shortly after a diagnostic setting appears, then every `intervalMs`. */
export function startKubeAuditWriter(opts: {
  state: () => SimState;
  blobUrl: string;
  ca: Buffer;
  intervalMs: number;
  /** Resolves when Azurite knows every account (set after account changes). */
  accountsReady: () => Promise<void>;
  log: (line: string) => void;
}): KubeAuditWriter & { attach(state: SimState): void } {
  const containersMade = new Set<string>();
  const blobsMade = new Set<string>();
  let running: Promise<string[]> = Promise.resolve([]);
  let stopped = false;

  async function writeOne(state: SimState, t: AuditTarget): Promise<string> {
    await opts.accountsReady();
    const client = new SharedKeyBlobClient(opts.blobUrl, t.accountName, state.storageKey(t.accountName), opts.ca);
    const now = new Date();
    const blobName = kubeAuditBlobName(t.clusterId, now);
    const containerKey = `${t.accountName}/${KUBE_AUDIT_CONTAINER}`;
    if (!containersMade.has(containerKey)) {
      const r = await client.request("PUT", KUBE_AUDIT_CONTAINER, { query: { restype: "container" } });
      if (r.status !== 201 && r.status !== 409)
        throw new Error(`create container ${containerKey}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
      containersMade.add(containerKey);
    }
    const blobKey = `${containerKey}/${blobName}`;
    const path = `${KUBE_AUDIT_CONTAINER}/${blobName}`;
    if (!blobsMade.has(blobKey)) {
      const r = await client.request("PUT", path, { headers: { "x-ms-blob-type": "AppendBlob", "if-none-match": "*" } });
      if (r.status !== 201 && r.status !== 409) throw new Error(`create append blob ${blobKey}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
      blobsMade.add(blobKey);
    }
    const adminUpn = state.scenario.users[0]?.upn ?? "admin@contoso.onmicrosoft.com";
    const cluster = state.getArm(t.clusterId) ?? { id: t.clusterId, name: t.clusterId.split("/").at(-1) ?? "" };
    const r = await client.request("PUT", path, {
      query: { comp: "appendblock" },
      body: Buffer.from(kubeAuditBatch(cluster, adminUpn), "utf8"),
    });
    if (r.status === 404) {
      // The container or blob was deleted behind our back (e.g. lifecycle policy test): recreate next time.
      containersMade.delete(containerKey);
      blobsMade.delete(blobKey);
    }
    if (r.status !== 201) throw new Error(`append to ${blobKey}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    return `${opts.blobUrl}/${t.accountName}/${path}`;
  }

  async function write(filter?: (t: AuditTarget) => boolean): Promise<string[]> {
    const state = opts.state();
    const targets = auditTargets(state).filter((t) => !filter || filter(t));
    const written: string[] = [];
    for (const t of targets) {
      try {
        written.push(await writeOne(state, t));
      } catch (err) {
        opts.log(`simulator: kube-audit write for ${t.clusterId} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return written;
  }

  /** Serialise writes so appends to one blob never interleave. */
  function enqueue(filter?: (t: AuditTarget) => boolean): Promise<string[]> {
    running = running.then(() => (stopped ? [] : write(filter)));
    return running;
  }

  const timer = setInterval(() => void enqueue(), opts.intervalMs);
  timer.unref();
  const pendingClusters = new Set<string>();
  let debounce: NodeJS.Timeout | undefined;

  return {
    flush: () => enqueue(),
    attach(state: SimState) {
      state.events.on("diagnosticSettingsChanged", (clusterId) => {
        pendingClusters.add(clusterId.toLowerCase());
        if (debounce) return;
        // Azure delivers the first logs minutes later; the simulator does it within ~1 s so flows stay fast.
        debounce = setTimeout(() => {
          debounce = undefined;
          const ids = new Set(pendingClusters);
          pendingClusters.clear();
          void enqueue((t) => ids.has(t.clusterId.toLowerCase()));
        }, 300);
        debounce.unref();
      });
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      if (debounce) clearTimeout(debounce);
      await running.catch(() => undefined);
    },
  };
}
