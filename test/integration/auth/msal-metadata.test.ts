// The sign-in authority's OpenID configuration against an HTTPS server that hangs: every sign-in waits on that one
// fetch, so a hung fetch must time out and must not be cached.
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCa } from "../../../simulator/src/tls";

type Mode = "hang" | "stall-body" | "answer";
const modes: Mode[] = [];
let requests = 0;
let server: https.Server;
let origin = "";
const METADATA = {
  issuer: "https://login.example/{tenantid}/v2.0",
  authorization_endpoint: "https://login.example/organizations/oauth2/v2.0/authorize",
  token_endpoint: "https://login.example/organizations/oauth2/v2.0/token",
  jwks_uri: "https://login.example/organizations/discovery/v2.0/keys",
};

beforeAll(async () => {
  const ca = ensureCa(".test-data/ca");
  server = https.createServer({ cert: fs.readFileSync(ca.certPath), key: fs.readFileSync(ca.keyPath) }, (req, res) => {
    requests += 1;
    const mode = modes.shift() ?? "answer";
    if (mode === "hang") return;
    if (mode === "stall-body") {
      // Headers and half a body, then silence: a limit on the response headers alone would wait forever here.
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"issuer":');
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(METADATA));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // env() parses once per process, at the first call below.
  process.env.ENTRA_AUTHORITY = `${origin}/organizations`;
  process.env.ENTRA_CLIENT_ID = crypto.randomUUID();
  process.env.ENTRA_CLIENT_SECRET = "test-secret";
  process.env.ENCRYPTION_KEY = crypto.randomBytes(32).toString("base64");
  // Long enough that a busy machine (server and client share this event loop) still delivers the request in time.
  process.env.AZURE_REQUEST_TIMEOUT_SECONDS = "2";
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("authorityMetadata", () => {
  it("times out a hung fetch, never caches a failed one, and keeps the first success", async () => {
    const { authorityMetadata } = await import("../../../lib/auth/msal");
    modes.push("hang", "stall-body");

    // Two sign-ins arriving during the hang share the one fetch and both get the timeout.
    const started = Date.now();
    const [a, b] = await Promise.allSettled([authorityMetadata(), authorityMetadata()]);
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const r of [a, b]) {
      expect(r.status).toBe("rejected");
      expect(r.status === "rejected" ? String(r.reason) : "").toContain(
        "Sign-in authority did not answer within 2 s for its OpenID configuration",
      );
    }
    expect(requests).toBe(1);

    // The next sign-in fetches again; a body that stops halfway times out too.
    await expect(authorityMetadata()).rejects.toThrow("did not answer within 2 s");
    expect(requests).toBe(2);

    expect(await authorityMetadata()).toMatchObject(METADATA);
    expect(requests).toBe(3);
    expect(await authorityMetadata()).toMatchObject(METADATA);
    expect(requests).toBe(3);
  });
});
