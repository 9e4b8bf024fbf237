// A portal process a spec owns (own port and database), for tests that kill it or configure it differently.
import { spawn, type ChildProcess } from "node:child_process";
import { e2eEnv, e2ePort } from "./env";

export interface OwnPortal {
  url: string;
  /** Starts `next start` and resolves once /readyz answers 200. */
  start(): Promise<void>;
  kill(): Promise<void>;
  /** Sends SIGTERM (a deploy's stop) and resolves when the process exited, with how and how long it took. */
  terminate(): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** Everything the portal wrote to stdout and stderr so far, across restarts. */
  logs(): string;
}

/** A portal on `port` with its own data folder; `env` overrides the e2e configuration ("" unsets a variable). */
export function ownPortal(port: number, name: string, env: Record<string, string> = {}): OwnPortal {
  const e = e2eEnv();
  port = e2ePort(port);
  const url = `http://localhost:${port}`;
  const processEnv = { ...process.env, ...e.processEnv, PORTAL_URL: url, DATA_DIR: `${e.dataDir}/portal-${name}`, ...env };
  let child: ChildProcess | undefined;
  let output = "";
  return {
    url,
    start: () =>
      new Promise((resolve, reject) => {
        const started = spawn(e.nextBin, ["start", "-p", String(port)], {
          cwd: e.root,
          env: processEnv,
          stdio: ["ignore", "pipe", "pipe"],
        });
        child = started;
        started.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
        const timer = setTimeout(() => reject(new Error(`portal ${name} did not become ready`)), 60_000);
        started.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
        started.on("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`portal ${name} exited with ${code}`));
        });
        const poll = async () => {
          while (started.exitCode === null && started.signalCode === null) {
            const res = await fetch(`${url}/readyz`).catch(() => undefined);
            if (res?.ok) {
              clearTimeout(timer);
              resolve();
              return;
            }
            await new Promise((r) => setTimeout(r, 100));
          }
        };
        void poll();
      }),
    logs: () => output,
    // SIGKILL: no graceful shutdown, like a crashed server.
    kill: async () => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const exited = new Promise((r) => c.once("exit", r));
      c.kill("SIGKILL");
      await exited;
    },
    terminate: async () => {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) throw new Error(`portal ${name} is not running`);
      const t0 = Date.now();
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
        c.once("exit", (code, signal) => r({ code, signal })),
      );
      c.kill("SIGTERM");
      return { ...(await exited), ms: Date.now() - t0 };
    },
  };
}
