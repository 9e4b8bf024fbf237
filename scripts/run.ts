// Small process helpers shared by the demo and test scripts.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** A locally installed CLI, called directly so signals reach it (npx would sit in between). */
export function bin(name: string): string {
  return path.join(path.resolve(__dirname, ".."), "node_modules", ".bin", name);
}

/** Run a command to completion with inherited output; throws on a non-zero exit. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  const res = spawnSync(cmd, args, { stdio: "inherit", env });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited with ${res.status ?? res.signal}`);
}

/** Start a long-running child; resolves once a line of its output matches `ready`. */
export function startService(
  name: string,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  timeoutMs = 180_000,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    const timer = setTimeout(() => reject(new Error(`${name} did not become ready within ${timeoutMs / 1000} s`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      process.stdout.write(
        text
          .split("\n")
          .filter(Boolean)
          .map((l) => `[${name}] ${l}\n`)
          .join(""),
      );
      if (ready.test(text)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code}`));
    });
  });
}

/** Debian's Chromium for Playwright; installed with apt when running as root. */
export function ensureChromium(): string {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter((p): p is string => !!p);
  const found = candidates.find((p) => fs.existsSync(p));
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      "Chromium is missing. Install it with `sudo apt-get install -y chromium` (or set CHROMIUM_PATH), then run the tests again.",
    );
  }
  console.log("Installing Debian's chromium for the browser tests…");
  run("apt-get", ["update", "-qq"]);
  run("apt-get", ["install", "-y", "-qq", "chromium"], { ...process.env, DEBIAN_FRONTEND: "noninteractive" });
  return "/usr/bin/chromium";
}

/** Print how long a phase took. */
export function timed<T>(label: string, fn: () => T): T {
  const start = Date.now();
  try {
    return fn();
  } finally {
    console.log(`\n⏱  ${label}: ${((Date.now() - start) / 1000).toFixed(1)} s\n`);
  }
}
