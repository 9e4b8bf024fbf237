// Runs a real Azurite blob server (child process, HTTPS with the simulator's leaf cert) and keeps its accounts in sync.
import { fork, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { CaFiles } from "../tls";

export interface AzuriteOptions {
  port: number;
  tls: CaFiles;
  /** Folder for blob data; undefined keeps everything in memory. */
  location?: string;
  log?: (line: string) => void;
}

export interface Azurite {
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Make Azurite serve exactly these accounts (name → base64 key); resolves once applied. */
  setAccounts(accounts: Map<string, string>): Promise<void>;
  stop(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
// Resolved from this file, not from the cwd, so the simulator can be started from anywhere.
const tsxLoader = pathToFileURL(
  path.join(path.dirname(createRequire(import.meta.url).resolve("tsx/package.json")), "dist", "loader.mjs"),
).href;

/** Start Azurite; resolves when it listens. */
export async function startAzurite(opts: AzuriteOptions): Promise<Azurite> {
  const childPath = path.join(here, "azurite-child.ts");
  if (opts.location) fs.mkdirSync(opts.location, { recursive: true });
  const child: ChildProcess = fork(childPath, [], {
    // tsx runs the TypeScript child; Azurite's telemetry is never initialised (only its CLI main does that).
    execArgv: ["--import", tsxLoader],
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    env: { ...process.env, AZURITE_ACCOUNTS: "" },
  });
  child.stdout?.on("data", (d: Buffer) => opts.log?.(`azurite: ${d.toString().trimEnd()}`));
  child.stderr?.on("data", (d: Buffer) => opts.log?.(`azurite: ${d.toString().trimEnd()}`));
  // If the parent exits abruptly, the IPC channel closes and the child exits on "disconnect".
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);

  let stopped = false;
  let nextId = 1;
  const pending = new Map<number, () => void>();
  child.on("message", (m: { type: string; id?: number }) => {
    if (m.type === "accounts-applied" && m.id !== undefined) {
      pending.get(m.id)?.();
      pending.delete(m.id);
    }
  });
  // An IPC failure must not crash the simulator, and nobody may wait forever on a dead child.
  child.on("error", (err) => opts.log?.(`azurite: ${err.message}`));
  child.on("exit", (code, signal) => {
    for (const resolve of pending.values()) resolve();
    pending.clear();
    if (!stopped) opts.log?.(`azurite: exited unexpectedly (code ${code}, signal ${signal})`);
  });

  const port = await new Promise<number>((resolve, reject) => {
    // Generous: forking tsx + Azurite takes seconds on a loaded machine (parallel test workers).
    const timer = setTimeout(() => reject(new Error("Azurite did not start within 60 s")), 60_000);
    child.on("message", (m: { type: string; port?: number; message?: string }) => {
      if (m.type === "ready" && m.port) {
        clearTimeout(timer);
        resolve(m.port);
      } else if (m.type === "error") {
        clearTimeout(timer);
        reject(new Error(`Azurite failed to start: ${m.message ?? "unknown error"}`));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited during start (code ${code})`));
    });
    child.send({
      type: "start",
      host: "127.0.0.1",
      port: opts.port,
      certPath: opts.tls.certPath,
      keyPath: opts.tls.keyPath,
      location: opts.location,
      accounts: "",
    });
  });

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    setAccounts(accounts) {
      if (stopped || !child.connected) return Promise.resolve();
      // Format of AZURITE_ACCOUNTS: "name1:key1;name2:key2".
      const env = [...accounts].map(([name, key]) => `${name}:${key}`).join(";");
      const id = nextId++;
      return new Promise<void>((resolve) => {
        pending.set(id, resolve);
        child.send({ type: "accounts", accounts: env, id });
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      process.off("exit", killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      if (child.connected) child.send({ type: "stop" });
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
