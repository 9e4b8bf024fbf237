// Every outbound HTTP try to Azure, Graph, Log Analytics or Workbench: one metric sample each, one log line per write.
import "server-only";
import type { PipelinePolicy, PipelineRequest, PipelineResponse } from "@azure/core-rest-pipeline";
import type { Context, Middleware } from "@microsoft/microsoft-graph-client";
import { errorText, log } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { RequestTimeoutError } from "./timeouts";

/** Which service a request went to. */
export type OutboundService = "arm" | "graph" | "log_analytics" | "workbench";

/** One HTTP try and its answer (status undefined: no answer, see failure). */
export interface OutboundTry {
  service: OutboundService;
  method: string;
  /** The request URL; only its path is logged, never its query. */
  url: string;
  status: number | undefined;
  durationMs: number;
  /** The service's id of the request: ARM's `x-ms-request-id`, Graph's `request-id`. */
  requestId?: string | null | undefined;
  /** The portal's id of the request, sent with it: `x-ms-client-request-id` (ARM), `client-request-id` (Graph), `x-request-id` (Workbench). */
  clientRequestId?: string | null | undefined;
  /** ARM's `x-ms-correlation-request-id`. */
  correlationId?: string | null | undefined;
  /** Why there is no answer. */
  error?: unknown;
}

const GUID_OR_NUMBER = /\d/;
const WORD = /^[A-Za-z$][\w.$-]*$/;

function pathOf(url: string): string {
  try {
    return new URL(url, "https://portal.invalid").pathname;
  } catch {
    return url.split("?")[0] ?? "";
  }
}

/**
 * The operation of a request with the names and ids of its resources left out, so it is a bounded metric label:
 * ARM "PUT Microsoft.Storage/storageAccounts", Graph "POST applications/{id}/addPassword".
 */
export function operationOf(service: OutboundService, method: string, url: string): string {
  const segments = pathOf(url)
    .split("/")
    .filter(Boolean)
    .map((s) => decodeURIComponent(s));
  return `${method.toUpperCase()} ${service === "arm" ? armOperation(segments) : restOperation(service, segments)}`;
}

// ARM paths alternate type and name from the root; the last "providers/<Namespace>" names the resource type, and a
// trailing odd segment is an action (listKeys, checkNameAvailability, register).
function armOperation(segments: string[]): string {
  const at = segments.map((s) => s.toLowerCase()).lastIndexOf("providers");
  const namespace = at >= 0 ? segments[at + 1] : undefined;
  const rest = namespace ? segments.slice(at + 2) : at >= 0 ? [] : segments;
  const types = rest.filter((_, i) => i % 2 === 0);
  if (!namespace) return at >= 0 && types.length === 0 ? "providers" : types.join("/") || "/";
  return [namespace, ...types].join("/");
}

// Graph, Log Analytics and Workbench: the version prefix dropped, ids replaced by {id}, key values by their key names.
function restOperation(service: OutboundService, segments: string[]): string {
  // Workbench may sit under a path of its own: what follows its "/api/v1" is the operation.
  const api = segments.indexOf("api");
  const skip = service === "workbench" ? (api >= 0 ? api + 2 : 0) : /^(v1\.0|beta|v1)$/.test(segments[0] ?? "") ? 1 : 0;
  return segments
    .slice(skip)
    .map((s) => {
      const keyed = /^([A-Za-z]\w*)\((.*)\)$/.exec(s);
      if (keyed) {
        const keys = [...(keyed[2] ?? "").matchAll(/(\w+)=/g)].map((m) => m[1]);
        return `${keyed[1]}(${keys.length ? keys.join(",") : "{id}"})`;
      }
      return WORD.test(s) && !GUID_OR_NUMBER.test(s) ? s : "{id}";
    })
    .join("/");
}

/** Whether a request changes something: PUT, PATCH, DELETE, and POST except actions that only read (list…, check…, get…, query). */
export function isWrite(method: string, operation: string): boolean {
  const m = method.toUpperCase();
  if (m === "PUT" || m === "PATCH" || m === "DELETE") return true;
  if (m !== "POST") return false;
  const action = operation.split("/").at(-1) ?? "";
  return !/^(list|check|get|query|validate)/i.test(action);
}

function failureOf(error: unknown): string {
  if (error instanceof RequestTimeoutError) return "timeout";
  if ((error as { name?: unknown } | null)?.name === "AbortError") return "aborted";
  return "network_error";
}

/** Counts one try in the metrics and, for a write (or any try at debug level), logs it with the request ids. */
export function recordOutbound(t: OutboundTry): void {
  const operation = operationOf(t.service, t.method, t.url);
  const status = t.status === undefined ? failureOf(t.error) : String(t.status);
  const m = metrics();
  m.azureRequests.inc({ service: t.service, operation, status });
  m.azureRequestDuration.observe({ service: t.service, operation }, t.durationMs / 1000);
  const write = isWrite(t.method, operation);
  const logger = log();
  const failed = t.status === undefined || t.status >= 400;
  const level = write ? (failed ? "warn" : "info") : "debug";
  if (!logger.isLevelEnabled(level)) return;
  logger[level](
    {
      event: write ? "azure.write" : "azure.read",
      service: t.service,
      operation,
      target: pathOf(t.url),
      status,
      durationMs: Math.round(t.durationMs),
      ...(t.requestId ? { requestId: t.requestId } : {}),
      ...(t.clientRequestId ? { clientRequestId: t.clientRequestId } : {}),
      ...(t.correlationId ? { correlationId: t.correlationId } : {}),
      ...(t.status === undefined && t.error !== undefined ? { error: errorText(t.error) } : {}),
    },
    `${operation} → ${status}`,
  );
}

function armTry(request: PipelineRequest, started: number, response: PipelineResponse | undefined, error?: unknown): OutboundTry {
  const header = (name: string) => response?.headers.get(name) ?? undefined;
  return {
    service: "arm",
    method: request.method,
    url: request.url,
    status: response?.status,
    durationMs: performance.now() - started,
    requestId: header("x-ms-request-id"),
    clientRequestId: header("x-ms-client-request-id") ?? request.headers.get("x-ms-client-request-id") ?? request.requestId,
    correlationId: header("x-ms-correlation-request-id"),
    error,
  };
}

/** core-rest-pipeline policy that records every try (ARM, Log Analytics); place it outside the time limit so it sees timeouts. */
export function requestLogPolicy(service: "arm" | "log_analytics" = "arm"): PipelinePolicy {
  return {
    name: "portalRequestLog",
    async sendRequest(request, next) {
      const started = performance.now();
      let response: PipelineResponse;
      try {
        response = await next(request);
      } catch (error) {
        // A RestError may carry the answer that failed it (the SDK's own checks): record that answer.
        const answered = (error as { response?: PipelineResponse } | null)?.response;
        recordOutbound({ ...armTry(request, started, answered, error), service });
        throw error;
      }
      recordOutbound({ ...armTry(request, started, response), service });
      return response;
    },
  };
}

/** The request log policy in the shape every Azure SDK client's options accept. */
export function requestLogPolicies(service: "arm" | "log_analytics" = "arm"): { policy: PipelinePolicy; position: "perRetry" }[] {
  return [{ policy: requestLogPolicy(service), position: "perRetry" }];
}

function headerOf(headers: HeadersInit | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  if (Array.isArray(headers)) return headers.find(([k]) => k.toLowerCase() === name)?.[1];
  const entry = Object.entries(headers).find(([k]) => k.toLowerCase() === name);
  return entry?.[1];
}

/** graph-client middleware that records every try; placed inside its RetryHandler, outside the time limit. */
export class GraphRequestLogHandler implements Middleware {
  private next: Middleware | undefined;

  async execute(context: Context): Promise<void> {
    if (!this.next) throw new Error("GraphRequestLogHandler must not be the last middleware");
    const started = performance.now();
    const url = typeof context.request === "string" ? context.request : context.request.url;
    const method = context.options?.method ?? (typeof context.request === "string" ? "GET" : context.request.method);
    const sent = headerOf(context.options?.headers, "client-request-id");
    let error: unknown;
    try {
      await this.next.execute(context);
    } catch (e) {
      error = e;
      throw e;
    } finally {
      const response = error === undefined ? context.response : undefined;
      recordOutbound({
        service: "graph",
        method,
        url,
        status: response?.status,
        durationMs: performance.now() - started,
        requestId: response?.headers.get("request-id"),
        clientRequestId: response?.headers.get("client-request-id") ?? sent,
        error,
      });
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}
