// The CLI: prints its ready line, serves HTTPS with its own CA, and on SIGTERM stops together with Azurite.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";

const tsxLoader = pathToFileURL(
  path.join(path.dirname(createRequire(import.meta.url).resolve("tsx/package.json")), "dist", "loader.mjs"),
).href;

function get(url: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca }, (res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on("error", reject);
  });
}

describe("simulator CLI", () => {
  it("starts, reports ready, and stops Azurite with it on SIGTERM", async () => {
    const dataDir = path.join(".test-data", `cli-${crypto.randomUUID()}`);
    const child = spawn(
      process.execPath,
      [
        "--import",
        tsxLoader,
        "simulator/main.ts",
        "--port",
        "0",
        "--blob-port",
        "0",
        "--data-dir",
        dataDir,
        "--client-id",
        crypto.randomUUID(),
        "--client-secret",
        "cli-test-secret",
        "--workbench-api-key",
        "cli-test-key",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /^simulator ready on (https:\/\/127\.0\.0\.1:\d+)\n/m.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.once("exit", (code) => reject(new Error(`exited with ${code}: ${stderr}`)));
    });
    const ca = fs.readFileSync(path.join(dataDir, "ca", "ca.pem"));
    expect(fs.existsSync(path.join(dataDir, "ca", "cert.pem"))).toBe(true);
    const health = await get(`${url}/_sim/health`, ca);
    expect(health.status).toBe(200);
    const { blobUrl } = JSON.parse(health.body) as { blobUrl: string };
    // Azurite answers (400/403 without an account or signature, but it answers over TLS with the same CA).
    expect((await get(`${blobUrl}/devstoreaccount1?comp=list`, ca)).status).toBeGreaterThanOrEqual(400);

    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    await expect(get(`${blobUrl}/devstoreaccount1?comp=list`, ca)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses to start without the required options", async () => {
    const child = spawn(process.execPath, ["--import", tsxLoader, "simulator/main.ts", "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain("--client-id is required");
    expect(stderr).toContain("Usage:");
  });
});
