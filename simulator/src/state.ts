// The simulator's in-memory world: one instance per simulator process, replaced on POST /_sim/reset.
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import type { ArmResource, Scenario, SimRequest, SimResponse } from "./contract";

export type GraphObject = Record<string, unknown> & { id: string };

/** A client secret as the token endpoint needs it (never exposed through /_sim/state). */
export interface AppSecret {
  appId: string;
  keyId: string;
  secretText: string;
  endDateTime: string;
  /** Epoch ms of addPassword; sign-ins with the secret fail until `latency.secretPropagationMs` later. Unset: propagated. */
  createdAt?: number;
}

export interface LatencyProfile {
  /** Added to every ARM/Graph/Workbench request. */
  requestMs: number;
  /** Duration of long-running operations by kind, e.g. { storageAccount: 3000 }. */
  lroMs: Record<string, number>;
  /** How long a new application / service principal is invisible to ARM and to servicePrincipals create. */
  replicationMs: number;
  /** Per service and method class, replacing requestMs for ARM and Graph (see profile.ts). */
  perRequestMs?: PerRequestLatency;
  /** ARM's per-subscription token buckets; absent = no throttling (see profile.ts). */
  armThrottle?: ArmThrottle;
  /** How long a new client secret is refused (AADSTS7000215) after addPassword, like Entra's replication. */
  secretPropagationMs?: number;
}

/** Added latency of one ARM/Graph request by service and read (GET/HEAD) or write (anything else). */
export interface PerRequestLatency {
  armRead: number;
  armWrite: number;
  graphRead: number;
  graphWrite: number;
}

/** Token bucket of one ARM operation type: `burst` tokens, refilled at `refillPerSecond`. */
export interface TokenBucketLimit {
  burst: number;
  refillPerSecond: number;
}
export type ArmThrottle = Record<"reads" | "writes" | "deletes", TokenBucketLimit>;

export type FaultKind = "429" | "500" | "503" | "PrincipalNotFound" | "NoBackingApplicationObject";
export interface FaultProfile {
  rate: number;
  kinds: FaultKind[];
  seed: number;
  /** Retry-After of faulted 429/503 answers (default 1). */
  retryAfterSeconds?: number;
}

export interface RequestLogEntry {
  time: string;
  method: string;
  url: string;
  apiVersion: string | null;
  status: number;
  caller: string | null;
  body: unknown;
}

/** Events the platform listens to (Azurite accounts, kube-audit blob writer). */
export interface SimEvents {
  storageAccountCreated: [account: ArmResource];
  storageAccountDeleted: [account: ArmResource];
  diagnosticSettingsChanged: [clusterId: string];
}

export class SimState {
  readonly events = new EventEmitter<SimEvents>();
  /** ARM resources keyed by lower-cased id. */
  readonly arm = new Map<string, ArmResource>();
  readonly graph: {
    applications: GraphObject[];
    servicePrincipals: GraphObject[];
    appRoleAssignments: GraphObject[];
    users: GraphObject[];
  } = { applications: [], servicePrincipals: [], appRoleAssignments: [], users: [] };
  readonly secrets: AppSecret[] = [];
  readonly workbench: { devices: Record<string, unknown>[] } = { devices: [] };
  /** Pending long-running operations keyed by operation id. */
  readonly lros = new Map<string, { doneAt: number; resourceId: string; status: "InProgress" | "Succeeded" | "Failed" }>();
  latency: LatencyProfile = { requestMs: 0, lroMs: { storageAccount: 300 }, replicationMs: 1500, secretPropagationMs: 0 };
  faults: FaultProfile = { rate: 0, kinds: [], seed: 1 };
  readonly requests: RequestLogEntry[] = [];
  /** Storage account name → base64 account key; shared by ARM listKeys, Azurite and the kube-audit writer. */
  readonly storageKeys = new Map<string, string>();
  /** Delegated consent: `${userObjectId}|${clientId}` → granted scopes as full strings ("https://graph.microsoft.com/Application.ReadWrite.All"). */
  readonly consents = new Map<string, Set<string>>();

  constructor(
    readonly scenario: Scenario,
    /** Public base URL of this simulator (https://127.0.0.1:PORT), for Location headers and endpoints. */
    readonly baseUrl: string,
    /** Base URL of the blob service (Azurite), e.g. https://127.0.0.1:10000. */
    readonly blobBaseUrl: string,
  ) {}

  now(): number {
    return Date.now();
  }

  getArm(id: string): ArmResource | undefined {
    return this.arm.get(id.toLowerCase());
  }

  putArm(resource: ArmResource): void {
    this.arm.set(resource.id.toLowerCase(), resource);
  }

  deleteArm(id: string): boolean {
    return this.arm.delete(id.toLowerCase());
  }

  /**
   * The account key (base64, 64 bytes like Azure's) of a storage account; created on first use.
   * Deterministic per name, so Azurite (persisted on disk) keeps accepting it after a restart or reset.
   */
  storageKey(accountName: string): string {
    const name = accountName.toLowerCase();
    let key = this.storageKeys.get(name);
    if (!key) {
      key = createHash("sha512").update(`azure-simulator-storage-key/${name}`).digest("base64");
      this.storageKeys.set(name, key);
    }
    return key;
  }
}

/** A route handler: answers, or returns undefined when the request is not its own. */
export type Handler = (req: SimRequest, state: SimState) => Promise<SimResponse | undefined> | SimResponse | undefined;
