// The public blob endpoint: an HTTPS front of Azurite that enforces Azure RBAC/ABAC on bearer-token requests.
// Shared Key, SAS and anonymous requests pass through unchanged (their signatures don't cover the host); an authorized
// bearer request is re-signed with the account key, since Azurite's own OAuth mode would change its Shared Key errors.
import crypto from "node:crypto";
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { SigningKey } from "../identity/keys";
import type { SimState } from "../state";
import type { CaFiles } from "../tls";
import {
  authorizeBlobRequest,
  isUserDelegationKeyRequest,
  parseBlobPath,
  storageErrorXml,
  userDelegationKeyXml,
} from "./blob-authorization";
import { sharedKeyAuthorization } from "./shared-key-signature";

export interface BlobFront {
  /** https://127.0.0.1:PORT — what ARM reports as primaryEndpoints.blob (plus /<account>/). */
  url: string;
  close(): Promise<void>;
}

export interface BlobFrontOptions {
  port: number;
  tls: CaFiles;
  /** Azurite's own URL (loopback, not advertised). */
  upstream: string;
  key: SigningKey;
  state(): SimState;
  log(line: string): void;
}

/** Start the front; every request ends up at Azurite unless a bearer token lacks the permission. */
export async function startBlobFront(opts: BlobFrontOptions): Promise<BlobFront> {
  const upstream = new URL(opts.upstream);
  const agent = new https.Agent({ ca: fs.readFileSync(opts.tls.caPath), keepAlive: true });

  function forward(req: IncomingMessage, res: ServerResponse, signAs?: string): void {
    const headers: Record<string, string | string[] | undefined> = { ...req.headers, host: upstream.host };
    if (signAs) {
      headers.authorization = sharedKeyAuthorization({
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers,
        account: signAs,
        base64Key: opts.state().storageKey(signAs),
      });
    }
    const out = https.request(
      { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on("error", (err) => {
      opts.log(`blob front: upstream failed: ${err.message}`);
      if (!res.headersSent) res.writeHead(503, { "content-type": "application/xml" });
      res.end(storageErrorXml("ServerBusy", "The blob service is unavailable."));
    });
    req.pipe(out);
  }

  const server = https.createServer({ cert: fs.readFileSync(opts.tls.certPath), key: fs.readFileSync(opts.tls.keyPath) }, (req, res) => {
    const auth = req.headers.authorization ?? "";
    const bearer = /^Bearer\s+(\S+)$/i.exec(auth);
    if (!bearer?.[1]) {
      forward(req, res);
      return;
    }
    const u = new URL(`https://127.0.0.1${req.url ?? "/"}`);
    const target = parseBlobPath(u.pathname);
    const decision = target
      ? authorizeBlobRequest({
          token: bearer[1],
          key: opts.key,
          state: opts.state(),
          method: (req.method ?? "GET").toUpperCase(),
          target,
          query: u.searchParams,
        })
      : ({
          ok: false,
          status: 400,
          code: "InvalidUri",
          message: "The requested URI does not represent any resource on the server.",
        } as const);
    if (decision.ok && target && isUserDelegationKeyRequest((req.method ?? "").toUpperCase(), target, u.searchParams)) {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = userDelegationKeyXml({
          principalId: decision.principalId,
          tenantId: opts.state().scenario.tenant.id,
          body: Buffer.concat(chunks).toString("utf8"),
          version: String(req.headers["x-ms-version"] ?? "2025-01-05"),
        });
        res.writeHead(200, {
          "content-type": "application/xml",
          "x-ms-request-id": crypto.randomUUID(),
          "content-length": String(Buffer.byteLength(body)),
        });
        res.end(body);
      });
      return;
    }
    if (decision.ok && target) {
      forward(req, res, target.account.toLowerCase());
      return;
    }
    if (decision.ok) return;
    req.resume();
    const body = req.method === "HEAD" ? undefined : storageErrorXml(decision.code, decision.message);
    res.writeHead(decision.status, {
      "content-type": "application/xml",
      "x-ms-error-code": decision.code,
      "x-ms-request-id": crypto.randomUUID(),
      ...("headers" in decision ? decision.headers : {}),
      ...(body ? { "content-length": String(Buffer.byteLength(body)) } : {}),
    });
    res.end(body);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      }),
  };
}
