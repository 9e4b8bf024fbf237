// The simulator's single HTTPS listener: routes identity, Graph, Workbench, control API and ARM on one port.
import crypto from "node:crypto";
import fs from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { SimRequest, SimResponse } from "./contract";
import type { Identity } from "./identity/routes";
import type { SigningKey } from "./identity/keys";
import { verifyBearer } from "./identity/verify";
import { drawFault } from "./faults";
import { requestDelayMs, takeArmToken, throttledResponse } from "./profile";
import { handleLogAnalyticsQuery } from "./loganalytics/query";
import { matchHold } from "./holds";
import type { Handler, SimState } from "./state";
import type { CaFiles } from "./tls";

/** A client the simulated Entra accepts for sign-in (the portal's app registration). */
export interface ClientCredential {
  clientId: string;
  clientSecret: string;
}

/** An incoming request before any service-specific parsing. */
export interface RawRequest {
  method: string;
  /** Path with duplicate slashes collapsed, without query string. */
  path: string;
  /** Path and query as received. */
  url: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  rawBody: Buffer;
  remoteAddress: string;
}

/** A response; an object body is sent as JSON. */
export interface RawResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** What the router needs from the running simulator. */
export interface Platform {
  baseUrl: string;
  key: SigningKey;
  state(): SimState;
  identity: Identity;
  handleArm: Handler;
  handleGraph: Handler;
  handleControl(req: RawRequest): Promise<RawResponse>;
  handleWorkbench(req: RawRequest, state: SimState): RawResponse;
  log(line: string): void;
}

const MAX_BODY = 8 * 1024 * 1024;
const SECRET_FIELD = /^(secret|password|key|key1|key2|clientsecret|client_secret|secrettext|value)$/i;
const SECRET_VALUE_FIELD = /^(secret|password|clientsecret|client_secret|secrettext)$/i;

/** Copy of a request body with secret-like fields replaced by "***" (for the request log). */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20) return "…";
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => {
        // "value" is only secret inside a key list ({keyName, value}); elsewhere (tags, filters) keep it.
        const secret =
          SECRET_VALUE_FIELD.test(k) || (SECRET_FIELD.test(k) && (k.toLowerCase() !== "value" || "keyName" in (value as object)));
        return [k, secret && v !== null && v !== undefined ? "***" : redact(v, depth + 1)];
      }),
    );
  }
  return value;
}

export const isLoopback = (addr: string) => addr === "127.0.0.1" || addr === "::1" || addr === "::ffff:127.0.0.1";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error("request body too large"));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, r: RawResponse): void {
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  let payload: Buffer | undefined;
  if (r.body === undefined || r.body === null) payload = undefined;
  else if (Buffer.isBuffer(r.body)) payload = r.body;
  else if (typeof r.body === "string") payload = Buffer.from(r.body, "utf8");
  else {
    payload = Buffer.from(JSON.stringify(r.body), "utf8");
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) headers["content-type"] = "application/json; charset=utf-8";
  }
  if (payload) headers["content-length"] = String(payload.length);
  else if (r.status !== 204 && r.status !== 304) headers["content-length"] = "0";
  res.writeHead(r.status, headers);
  res.end(payload);
}

function parseJson(raw: Buffer): { ok: true; value: unknown } | { ok: false; message: string } {
  if (raw.length === 0) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(raw.toString("utf8")) as unknown };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}

function serviceOf(path: string): "identity" | "control" | "workbench" | "graph" | "loganalytics" | "arm" {
  if (path === "/_sim" || path.startsWith("/_sim/")) return "control";
  if (path.startsWith("/v1/")) return "loganalytics";
  if (path === "/workbench" || path.startsWith("/workbench/")) return "workbench";
  if (path === "/v1.0" || path.startsWith("/v1.0/")) return "graph";
  if (/^\/[^/]+\/(oauth2\/v2\.0\/|v2\.0\/\.well-known\/|discovery\/)/.test(path)) return "identity";
  return "arm";
}

/** Routes one request; exported for tests that bypass TLS. */
export async function route(p: Platform, req: RawRequest): Promise<RawResponse> {
  const service = serviceOf(req.path);
  if (service === "control") return p.handleControl(req);
  if (service === "identity") {
    return (
      p.identity.handle(req) ?? { status: 404, body: { error: "not_found", error_description: `No identity endpoint at ${req.path}` } }
    );
  }
  const state = p.state();
  const delay = requestDelayMs(state.latency, service, req.method, req.path);
  if (delay > 0) await sleep(delay);
  // Hold rules (/_sim/holds) let a crash test kill the portal while this request is in flight.
  const hold = matchHold(state, req.method, req.path);
  if (hold?.phase === "before") await hold.wait();
  if (service === "loganalytics") {
    const r = handleLogAnalyticsQuery(req, state, p.key);
    logRequest(state, req, r.status, null, undefined);
    return r;
  }
  if (service === "workbench") {
    const r = p.handleWorkbench(req, state);
    const body = parseJson(req.rawBody);
    logRequest(state, req, r.status, r.status === 401 ? null : "workbench", body.ok ? body.value : undefined);
    if (hold?.phase === "after") await hold.wait();
    return r;
  }
  const r = await serveAzure(p, state, req, service);
  if (hold?.phase === "after") await hold.wait();
  const ids = crypto.randomUUID();
  const standard: Record<string, string> =
    service === "arm"
      ? {
          "x-ms-request-id": ids,
          "x-ms-correlation-request-id": req.headers["x-ms-correlation-request-id"] ?? ids,
          "cache-control": "no-cache",
        }
      : { "request-id": ids, "client-request-id": req.headers["client-request-id"] ?? ids, "cache-control": "no-cache" };
  if (service === "arm" && r.status < 400) {
    const op = req.method === "GET" || req.method === "HEAD" ? "reads" : req.method === "DELETE" ? "deletes" : "writes";
    standard[`x-ms-ratelimit-remaining-subscription-${op}`] = op === "reads" ? "249" : "199";
  }
  return { ...r, headers: { ...standard, ...(r.headers ?? {}) } };
}

async function serveAzure(p: Platform, state: SimState, req: RawRequest, service: "arm" | "graph"): Promise<RawResponse> {
  const body = parseJson(req.rawBody);
  const bodyForLog = body.ok ? body.value : req.rawBody.toString("utf8").slice(0, 2000);
  const auth = verifyBearer({ authorization: req.headers.authorization, service, key: p.key, baseUrl: p.baseUrl, state });
  if (!auth.ok) {
    logRequest(state, req, auth.response.status, null, bodyForLog);
    return auth.response;
  }
  const caller = auth.caller;
  const callerName = caller.upn ?? caller.appId;
  if (!body.ok) {
    const r: RawResponse =
      service === "arm"
        ? {
            status: 400,
            body: {
              error: {
                code: "InvalidRequestContent",
                message: `The request content was invalid and could not be deserialized: '${body.message}'.`,
              },
            },
          }
        : {
            status: 400,
            body: {
              error: {
                code: "BadRequest",
                message:
                  "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
              },
            },
          };
    logRequest(state, req, r.status, callerName, bodyForLog);
    return r;
  }
  const subscriptionId = /^\/subscriptions\/([^/]+)/i.exec(req.path)?.[1];
  const limits = state.latency.armThrottle;
  let remaining: Record<string, string> = {};
  if (service === "arm" && limits) {
    const d = takeArmToken(state, limits, { scope: subscriptionId ?? caller.tenantId, principal: caller.objectId, method: req.method });
    if (!d.ok) {
      const r = throttledResponse(d, { subscriptionId, tenantId: caller.tenantId, principal: caller.objectId });
      logRequest(state, req, r.status, callerName, bodyForLog);
      return r;
    }
    remaining = { [`x-ms-ratelimit-remaining-${subscriptionId ? "subscription" : "tenant"}-${d.op}`]: String(d.remaining) };
  }
  const fault = drawFault(state, {
    service,
    method: req.method,
    path: req.path,
    subscriptionId,
    tenantId: caller.tenantId,
    principalId: caller.objectId,
    body: body.value,
  });
  let r: SimResponse | undefined = fault;
  if (!r) {
    const simReq: SimRequest = { method: req.method, path: req.path, query: req.query, headers: req.headers, body: body.value, caller };
    try {
      r = await (service === "arm" ? p.handleArm : p.handleGraph)(simReq, state);
    } catch (err) {
      p.log(
        `simulator: ${service} handler failed on ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      r = {
        status: 500,
        body: {
          error: {
            code: service === "arm" ? "InternalServerError" : "generalException",
            message: `Simulator handler error: ${err instanceof Error ? err.message : String(err)}`,
          },
        },
      };
    }
  }
  r ??=
    service === "arm"
      ? { status: 404, body: { error: { code: "NotFound", message: `The simulator has no ARM route for ${req.method} ${req.path}.` } } }
      : {
          status: 400,
          body: {
            error: {
              code: "BadRequest",
              message: `Resource not found for the segment '${req.path.split("/").filter(Boolean).at(-1) ?? ""}'.`,
            },
          },
        };
  logRequest(state, req, r.status, callerName, bodyForLog);
  return r.status < 400 && Object.keys(remaining).length ? { ...r, headers: { ...remaining, ...(r.headers ?? {}) } } : r;
}

function logRequest(state: SimState, req: RawRequest, status: number, caller: string | null, body: unknown): void {
  state.requests.push({
    time: new Date().toISOString(),
    method: req.method,
    url: req.url,
    apiVersion: req.query.get("api-version"),
    status,
    caller,
    body: body === undefined ? null : redact(body),
  });
  // Keep memory bounded in long demo sessions.
  if (state.requests.length > 5000) state.requests.splice(0, state.requests.length - 5000);
}

export interface ListeningServer {
  server: https.Server;
  port: number;
  close(): Promise<void>;
}

/** Start the HTTPS listener on 127.0.0.1:port (0 = any free port). The platform is resolved lazily per request. */
export async function listen(tls: CaFiles, port: number, platform: () => Platform | undefined): Promise<ListeningServer> {
  const server = https.createServer({ cert: fs.readFileSync(tls.certPath), key: fs.readFileSync(tls.keyPath) }, (req, res) => {
    void (async () => {
      const p = platform();
      try {
        if (!p) {
          send(res, {
            status: 503,
            headers: { "retry-after": "1" },
            body: { error: { code: "ServiceUnavailable", message: "The simulator is starting." } },
          });
          return;
        }
        const rawBody = await readBody(req);
        // Prefix instead of resolving: "//subscriptions/…" (arm-monitor) would otherwise parse as a host name.
        const u = new URL(`https://127.0.0.1${req.url ?? "/"}`);
        const headers: Record<string, string | undefined> = {};
        for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : v;
        const r = await route(p, {
          method: (req.method ?? "GET").toUpperCase(),
          path: u.pathname.replace(/\/{2,}/g, "/"),
          url: req.url ?? "/",
          query: u.searchParams,
          headers,
          rawBody,
          remoteAddress: req.socket.remoteAddress ?? "",
        });
        send(res, r);
      } catch (err) {
        p?.log(`simulator: request failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        if (!res.headersSent)
          send(res, {
            status: 500,
            body: { error: { code: "InternalServerError", message: "The simulator failed to process the request." } },
          });
        else res.destroy();
      }
    })();
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    port: actual,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
