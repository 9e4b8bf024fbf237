// Debian's azure-cli (2.45 in bookworm) for the CLI read-back tests (test/integration/cli); installed with apt as root.
import fs from "node:fs";
import path from "node:path";
import { run } from "./run";

/** Where az is on PATH (or AZ_PATH), else undefined. */
export function findAz(): string | undefined {
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  const candidates = [process.env.AZ_PATH, ...dirs.map((d) => path.join(d, "az")), "/usr/bin/az"].filter((p): p is string => !!p);
  return candidates.find((p) => fs.existsSync(p));
}

/** az, installed from Debian's archive when missing and running as root (as Chromium is); otherwise says how. */
export function ensureAz(): string {
  const found = findAz();
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      "The Azure CLI is missing. Install it with `sudo apt-get install -y azure-cli` (or set AZ_PATH), then run the tests again.",
    );
  }
  console.log("Installing Debian's azure-cli for the CLI tests…");
  run("apt-get", ["update", "-qq"]);
  run("apt-get", ["install", "-y", "-qq", "azure-cli"], { ...process.env, DEBIAN_FRONTEND: "noninteractive" });
  return "/usr/bin/az";
}
