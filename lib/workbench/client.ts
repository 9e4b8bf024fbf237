// The vendor's Workbench API: configuration, authenticated JSON requests and actionable errors.
import "server-only";
import type { z } from "zod";
import { env } from "@/lib/env";
import { AzureOperationError, retryAfterFromHeaders, type AzureErrorCode } from "@/lib/azure/errors";
import { recordOutbound } from "@/lib/azure/request-log-policy";
import { deadline, formatSeconds, noteAnswer, RequestTimeoutError, requestTimeoutMs } from "@/lib/azure/timeouts";

/** Where the portal reaches Workbench, or null when the hand-off is manual. */
export interface WorkbenchConfig {
  url: string;
  apiKey: string;
}

/** Workbench is used when WORKBENCH_URL is configured; a URL without an API key is a configuration error, not manual mode. */
export function workbenchConfig(): WorkbenchConfig | null {
  const { WORKBENCH_URL, WORKBENCH_API_KEY } = env();
  if (!WORKBENCH_URL) return null;
  if (!WORKBENCH_API_KEY) {
    throw new WorkbenchError(
      "invalid_request",
      "WORKBENCH_URL is configured but WORKBENCH_API_KEY is not: the portal's operator must set the vendor's API key.",
    );
  }
  return { url: WORKBENCH_URL, apiKey: WORKBENCH_API_KEY };
}

/**
 * A failed Workbench call. It is an AzureOperationError so the engine's one retry classification applies
 * (throttled/unavailable are transient); its message never carries the request body.
 */
export class WorkbenchError extends AzureOperationError {
  constructor(code: AzureErrorCode, message: string, status?: number, retryAfterMs?: number) {
    super(code, message, undefined, status, undefined, retryAfterMs);
    this.name = "WorkbenchError";
  }
}

const DEVICES_PATH = "/api/v1/security-devices";

function errorFor(status: number, action: string): { code: AzureErrorCode; message: string } {
  if (status === 401)
    return { code: "forbidden", message: `Could not ${action}: the portal's Workbench API key was refused: the vendor must check it.` };
  if (status === 403)
    return {
      code: "forbidden",
      message: `Could not ${action}: Workbench does not allow the portal's API key to do this: the vendor must check its permissions.`,
    };
  if (status === 404)
    return {
      code: "not_found",
      message: `Could not ${action}: Workbench does not know this endpoint or device. Check the portal's WORKBENCH_URL.`,
    };
  if (status === 409) return { code: "conflict", message: `Could not ${action}: Workbench reported a conflict.` };
  if (status === 429) return { code: "throttled", message: `Could not ${action}: Workbench is throttling requests. Retry in a minute.` };
  if (status >= 500) return { code: "unavailable", message: `Could not ${action}: Workbench had a temporary problem. Retry in a moment.` };
  return { code: "invalid_request", message: `Could not ${action}: Workbench rejected the request (HTTP ${status}).` };
}

/** Field paths Workbench named in a 400 ValidationError (never their values). */
function validationPaths(body: unknown): string[] {
  const details = (body as { error?: { details?: unknown } } | null)?.error?.details;
  if (!Array.isArray(details)) return [];
  return details.flatMap((d) => (typeof (d as { path?: unknown }).path === "string" ? [(d as { path: string }).path] : []));
}

/** One JSON request to `${WORKBENCH_URL}/api/v1/security-devices…`, parsed with `schema` (204 → undefined). */
export async function workbenchRequest<T>(
  config: WorkbenchConfig,
  method: "GET" | "POST" | "PATCH" | "DELETE",
  subPath: string,
  schema: z.ZodType<T> | null,
  action: string,
  body?: unknown,
): Promise<T | undefined> {
  const ms = requestTimeoutMs();
  // One limit for the answer and its body: a vendor API that stops mid-body must not hold the step either.
  const limit = deadline(ms);
  const timedOut = () =>
    new WorkbenchError(
      "timeout",
      `Could not ${action}: Workbench did not answer within ${formatSeconds(ms)}. Retry in a moment; if it keeps happening, the vendor must check Workbench.`,
    );
  let res: Response;
  const url = `${config.url}${DEVICES_PATH}${subPath}`;
  // The portal's id of this request, sent along, so the vendor can find it in Workbench's own logs.
  const clientRequestId = crypto.randomUUID();
  const started = performance.now();
  const record = (answer: Response | undefined, error?: unknown) =>
    recordOutbound({
      service: "workbench",
      method,
      url,
      status: answer?.status,
      durationMs: performance.now() - started,
      requestId: answer?.headers.get("x-request-id") ?? answer?.headers.get("request-id"),
      clientRequestId,
      error,
    });
  try {
    res = await fetch(url, {
      method,
      headers: {
        authorization: `Bearer ${config.apiKey}`,
        accept: "application/json",
        "x-request-id": clientRequestId,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: limit.signal,
    });
  } catch (error) {
    record(undefined, limit.timedOut() ? new RequestTimeoutError("Workbench", ms) : error);
    if (limit.timedOut()) throw timedOut();
    if (limit.signal.aborted) throw error;
    // The cause may echo request details; keep only what the admin can act on.
    throw new WorkbenchError(
      "unavailable",
      `Could not ${action}: Workbench could not be reached. Check the portal's WORKBENCH_URL and network.`,
    );
  }
  record(res);
  let text: string;
  try {
    text = await res.text();
  } catch (error) {
    if (limit.timedOut()) throw timedOut();
    if (limit.signal.aborted) throw error;
    throw new WorkbenchError(
      "unavailable",
      `Could not ${action}: the connection to Workbench broke while it answered. Retry in a moment.`,
      res.status,
    );
  }
  noteAnswer();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const { code, message } = errorFor(res.status, action);
    const paths = res.status === 400 ? validationPaths(json) : [];
    const full = paths.length > 0 ? `${message} Invalid fields: ${paths.join(", ")}.` : message;
    // Workbench's 429/503 Retry-After reaches the engine like Azure's, so it waits as long as the vendor asked.
    throw new WorkbenchError(code, full, res.status, retryAfterFromHeaders(res.headers));
  }
  if (!schema || res.status === 204) return undefined;
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WorkbenchError(
      "unknown",
      `Could not ${action}: Workbench answered in an unexpected shape (${issue?.path.join(".") ?? ""}).`,
      res.status,
    );
  }
  return parsed.data;
}
