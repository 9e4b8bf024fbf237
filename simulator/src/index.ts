// Programmatic API of the Azure simulator: start it in-process (tests, demo script) and stop it again.
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { handleArm, seedArm } from "./arm/index";
import { scenarioSchema, type Scenario } from "./contract";
import { releaseHolds } from "./holds";
import { createControl } from "./control";
import { handleGraph, seedGraph } from "./graph/index";
import { loadSigningKey } from "./identity/keys";
import { createIdentity } from "./identity/routes";
import { startAzurite, type Azurite } from "./blob/azurite";
import { startBlobFront, type BlobFront } from "./blob/blob-front";
import { startKubeAuditWriter } from "./blob/kube-audit";
import { listen, type ClientCredential, type Platform } from "./server";
import { SimState } from "./state";
import { ensureCa } from "./tls";
import { handleWorkbench } from "./workbench";

export { ensureCa } from "./tls";
export type { CaFiles } from "./tls";
export type { ClientCredential } from "./server";
export { SimState } from "./state";

const optionsSchema = z.object({
  /** HTTPS port on 127.0.0.1; 0 = any free port. */
  port: z.number().int().min(0).max(65535).default(8443),
  /** Azurite blob port on 127.0.0.1; 0 = any free port. */
  blobPort: z.number().int().min(0).max(65535).default(10000),
  dataDir: z.string().min(1).default(".data/simulator"),
  /** Where the CA and leaf live; default `<dataDir>/ca`. Tests share one CA dir trusted via NODE_EXTRA_CA_CERTS. */
  caDir: z.string().min(1).optional(),
  /** A scenario object or the path of a scenario JSON file. */
  scenario: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  /** Clients (the portal's app registration) allowed to sign users in. */
  clients: z.array(z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1) })).min(1),
  workbenchApiKey: z.string().min(1),
  /** Start Azurite (default true). Tests that need no blobs pass false to start faster. */
  blob: z.boolean().default(true),
  /** Blob data on disk under `<dataDir>/azurite` (default) or in memory. */
  blobPersistence: z.enum(["disk", "memory"]).default("disk"),
  /** Period of the kube-audit writer. */
  kubeAuditIntervalMs: z.number().int().min(200).default(15_000),
  /** How long a new client secret is refused after addPassword (Entra replication); also POST /_sim/latency. */
  secretPropagationMs: z.number().int().min(0).max(600_000).default(10_000),
  log: z.custom<(line: string) => void>((v) => typeof v === "function").optional(),
});

export type SimulatorOptions = z.input<typeof optionsSchema>;

export interface RunningSimulator {
  /** https://127.0.0.1:PORT — authority host, ARM and Graph endpoint, Workbench base (`${url}/workbench`). */
  url: string;
  /** https://127.0.0.1:BLOBPORT — Azurite, path-style: `${blobUrl}/<account>/…`. */
  blobUrl: string;
  /** The CA certificate clients must trust (NODE_EXTRA_CA_CERTS). */
  caPath: string;
  /** Absolute data dir (signing key, Azurite data). */
  dataDir: string;
  state(): SimState;
  /** Same as POST /_sim/reset. */
  reset(scenario?: Scenario): Promise<SimState>;
  /** Write one kube-audit batch now for every cluster with a kube-audit diagnostic setting. */
  flushKubeAudit(): Promise<string[]>;
  close(): Promise<void>;
}

/** Read and validate a scenario file; errors name the file and every issue. */
export function loadScenario(file: string): Scenario {
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new Error(`Cannot read scenario ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseScenario(json, file);
}

function parseScenario(value: unknown, label: string): Scenario {
  const r = scenarioSchema.safeParse(value);
  if (r.success) return r.data;
  throw new Error(`Invalid scenario ${label}:\n${r.error.issues.map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`).join("\n")}`);
}

const isStorageAccount = (type: string) => type.toLowerCase() === "microsoft.storage/storageaccounts";

/** Start the simulator: HTTPS listener, seeded state, Azurite and the kube-audit writer. */
export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const parsedOptions = optionsSchema.safeParse(options);
  if (!parsedOptions.success) {
    throw new Error(`Invalid simulator options: ${parsedOptions.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  const opts = parsedOptions.data;
  const log = opts.log ?? ((line: string) => console.error(line));
  let scenario = typeof opts.scenario === "string" ? loadScenario(opts.scenario) : parseScenario(opts.scenario, "(object)");
  const dataDir = path.resolve(opts.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const tls = ensureCa(opts.caDir ?? path.join(dataDir, "ca"));
  const key = loadSigningKey(dataDir);
  const clients: ClientCredential[] = opts.clients;

  // Requests arriving before the state is seeded get a 503 (the listener must exist first to know its port).
  const ready: { platform?: Platform } = {};
  const listener = await listen(tls, opts.port, () => ready.platform);
  const baseUrl = `https://127.0.0.1:${listener.port}`;
  let azurite: Azurite | undefined;
  let blobFront: BlobFront | undefined;
  let state!: SimState;
  try {
    if (opts.blob) {
      // Azurite listens on a private port; the blob port is the front that enforces RBAC/ABAC for bearer tokens.
      azurite = await startAzurite({
        port: 0,
        tls,
        location: opts.blobPersistence === "disk" ? path.join(dataDir, "azurite") : undefined,
        log,
      });
      blobFront = await startBlobFront({ port: opts.blobPort, tls, upstream: azurite.url, key, state: () => state, log });
    }
  } catch (err) {
    await listener.close();
    await azurite?.stop();
    throw err;
  }
  const blobUrl = blobFront?.url ?? `https://127.0.0.1:${opts.blobPort}`;

  let accountsSync: Promise<void> = Promise.resolve();

  /** Azurite serves exactly the storage accounts that exist in ARM, with the keys ARM listKeys reports. */
  function syncAccounts(s: SimState, changed?: { account: { name: string }; deleted: boolean }): void {
    if (!azurite) return;
    const accounts = new Map<string, string>();
    for (const r of s.arm.values()) if (isStorageAccount(r.type)) accounts.set(r.name.toLowerCase(), s.storageKey(r.name));
    if (changed && !changed.deleted) accounts.set(changed.account.name.toLowerCase(), s.storageKey(changed.account.name));
    if (changed?.deleted) accounts.delete(changed.account.name.toLowerCase());
    const az = azurite;
    accountsSync = accountsSync.then(() => az.setAccounts(accounts));
  }

  const writer = azurite
    ? startKubeAuditWriter({
        state: () => state,
        blobUrl,
        ca: fs.readFileSync(tls.caPath),
        intervalMs: opts.kubeAuditIntervalMs,
        accountsReady: () => accountsSync,
        log,
      })
    : undefined;

  function makeState(sc: Scenario): SimState {
    const s = new SimState(sc, baseUrl, blobUrl);
    s.latency.secretPropagationMs = opts.secretPropagationMs;
    s.events.on("storageAccountCreated", (account) => syncAccounts(s, { account, deleted: false }));
    s.events.on("storageAccountDeleted", (account) => syncAccounts(s, { account, deleted: true }));
    seedArm(s);
    seedGraph(s);
    writer?.attach(s);
    syncAccounts(s);
    return s;
  }

  async function reset(next?: Scenario): Promise<SimState> {
    if (next) scenario = next;
    const old = state;
    state = makeState(scenario);
    old?.events.removeAllListeners();
    if (old) releaseHolds(old);
    await accountsSync;
    return state;
  }

  try {
    state = makeState(scenario);
    await accountsSync;
  } catch (err) {
    await writer?.stop();
    await listener.close();
    await blobFront?.close();
    await azurite?.stop();
    throw err;
  }

  const identity = createIdentity({ baseUrl, key, clients, state: () => state });
  const flushKubeAudit = async () => (writer ? writer.flush() : []);
  const handleControl = createControl({ baseUrl, blobUrl: blobFront?.url, key, clients, state: () => state, reset, flushKubeAudit });
  ready.platform = {
    baseUrl,
    key,
    state: () => state,
    identity,
    handleArm,
    handleGraph,
    handleControl,
    handleWorkbench: (req, s) => handleWorkbench(req, s, opts.workbenchApiKey),
    log,
  };

  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    blobUrl,
    caPath: tls.caPath,
    dataDir,
    state: () => state,
    reset,
    flushKubeAudit,
    close() {
      closing ??= (async () => {
        // Let an append in flight finish before Azurite goes away.
        await writer?.stop();
        state.events.removeAllListeners();
        await Promise.allSettled([listener.close(), blobFront?.close(), azurite?.stop()]);
      })();
      return closing;
    },
  };
}
