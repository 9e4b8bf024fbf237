// Child process hosting Azurite's blob server in-process, so the simulator can add storage accounts at run time.
// Azurite reads accounts only from AZURITE_ACCOUNTS; here the parent sends the list over IPC and we refresh the store.
import { createRequire } from "node:module";
import path from "node:path";

interface AccountStore {
  refresh(): void;
}
interface BlobServerLike {
  start(): Promise<void>;
  close(): Promise<void>;
  accountDataStore: AccountStore;
  httpServer: { address(): { port: number } | string | null };
}
type BlobServerCtor = new (config: unknown) => BlobServerLike;
type BlobConfigurationCtor = new (...args: unknown[]) => unknown;

interface StartMessage {
  type: "start";
  host: string;
  port: number;
  certPath: string;
  keyPath: string;
  /** Folder for Loki DBs and extents; undefined = in-memory persistence. */
  location?: string;
  accounts: string;
}
interface AccountsMessage {
  type: "accounts";
  accounts: string;
  id: number;
}

const require = createRequire(import.meta.url);
const azuriteRoot = path.dirname(require.resolve("azurite/package.json"));
const load = <T>(rel: string): T => (require(path.join(azuriteRoot, "dist/src", rel)) as { default: T }).default;

let server: BlobServerLike | undefined;

async function start(msg: StartMessage): Promise<void> {
  process.env.AZURITE_ACCOUNTS = msg.accounts;
  const BlobConfiguration = load<BlobConfigurationCtor>("blob/BlobConfiguration");
  const BlobServer = load<BlobServerCtor>("blob/BlobServer");
  const memory = msg.location === undefined;
  const loc = msg.location ?? ".";
  // Positional args of BlobConfiguration (azurite 3.35): host, port, keepAliveTimeout, metadataDBPath, extentDBPath,
  // persistencePathArray, enableAccessLog, accessLogWriteStream, enableDebugLog, debugLogFilePath, loose,
  // skipApiVersionCheck, cert, key, pwd, oauth, disableProductStyleUrl, isMemoryPersistence.
  const config = new BlobConfiguration(
    msg.host,
    msg.port,
    5,
    path.join(loc, "__azurite_db_blob__.json"),
    path.join(loc, "__azurite_db_blob_extent__.json"),
    [{ locationId: "Default", locationPath: path.join(loc, "__blobstorage__"), maxConcurrency: 10 }],
    false,
    undefined,
    false,
    undefined,
    true, // --loose
    true, // --skipApiVersionCheck
    msg.certPath,
    msg.keyPath,
    "",
    undefined,
    // Path-style URLs (https://127.0.0.1:port/<account>/…) are the only form that works on loopback.
    true,
    memory,
  );
  // Equivalent of --disableTelemetry: Azurite phones home only after init(…, true), which its CLI does; pin it off.
  const telemetry = require(path.join(azuriteRoot, "dist/src/common/Telemetry")) as {
    AzuriteTelemetryClient: { init(location: string, enable: boolean, env: unknown): void };
  };
  telemetry.AzuriteTelemetryClient.init("", false, undefined);
  server = new BlobServer(config);
  await server.start();
  const address = server.httpServer.address();
  const port = address && typeof address === "object" ? address.port : msg.port;
  process.send?.({ type: "ready", port });
}

process.on("message", (raw: StartMessage | AccountsMessage | { type: "stop" }) => {
  if (raw.type === "start") {
    start(raw).catch((err: unknown) => {
      process.send?.({ type: "error", message: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    });
  } else if (raw.type === "accounts") {
    process.env.AZURITE_ACCOUNTS = raw.accounts;
    server?.accountDataStore.refresh();
    process.send?.({ type: "accounts-applied", id: raw.id });
  } else if (raw.type === "stop") {
    void (server?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  }
});

// The simulator owns this process: when it goes away (even killed), so does Azurite.
process.on("disconnect", () => process.exit(0));
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
