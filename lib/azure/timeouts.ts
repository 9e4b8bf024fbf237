// Time limits of outbound calls (Azure, Graph, Workbench, Entra), and the executing step's abort signal carried to them.
import "server-only";
import { AsyncLocalStorage } from "node:async_hooks";
import type { AbortSignalLike } from "@azure/abort-controller";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from "@azure/msal-node";
import type { Context, Middleware } from "@microsoft/microsoft-graph-client";
import { env } from "@/lib/env";

/** One outbound call got no (complete) answer within its time limit. */
export class RequestTimeoutError extends Error {
  constructor(
    /** Who did not answer, for the message: "Azure", "Microsoft Graph". */
    readonly service: string,
    readonly timeoutMs: number,
  ) {
    super(`${service} did not answer within ${formatSeconds(timeoutMs)}`);
    this.name = "RequestTimeoutError";
  }
}

/** The configured limit for one request (AZURE_REQUEST_TIMEOUT_SECONDS). */
export function requestTimeoutMs(): number {
  return Math.round(env().AZURE_REQUEST_TIMEOUT_SECONDS * 1000);
}

/** The configured limit for one long-running operation, polling included (AZURE_LRO_BUDGET_SECONDS). */
export function lroBudgetMs(): number {
  return Math.round(env().AZURE_LRO_BUDGET_SECONDS * 1000);
}

/** "30 s", "1.5 s": whole seconds where they are whole. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : Number(s.toFixed(1))} s`;
}

/** What an execution hands to the outbound calls made under it. */
export interface OutboundScope {
  /** Cancels every call still in flight. */
  signal: AbortSignal;
  /** A service answered (any status): the execution is waiting on live peers, not on a hung connection. */
  onAnswer: () => void;
}

const ambient = new AsyncLocalStorage<OutboundScope>();

/**
 * Runs `fn` so that every outbound call it makes, however deep, is cancelled when `scope.signal` aborts and reports its
 * answers to `scope.onAnswer`: steps call lib/azure without such parameters, and the engine must still be able to tell
 * a slow step (answers keep coming, e.g. a long-running operation's polls) from a hung one, and cut the hung one off.
 */
export function withOutboundScope<T>(scope: OutboundScope, fn: () => Promise<T>): Promise<T> {
  return ambient.run(scope, fn);
}

/** The signal of the surrounding withOutboundScope, if any. */
export function ambientAbortSignal(): AbortSignal | undefined {
  return ambient.getStore()?.signal;
}

/** Tells the surrounding withOutboundScope, if any, that a service answered. */
export function noteAnswer(): void {
  ambient.getStore()?.onAnswer();
}

/** A signal that aborts when any of `signals` does (the SDKs' own signals may be AbortSignalLike, not AbortSignal). */
export function anySignal(signals: readonly (AbortSignalLike | undefined)[]): AbortSignal {
  const real = signals.flatMap((s) => {
    if (!s) return [];
    if (s instanceof AbortSignal) return [s];
    const bridge = new AbortController();
    if (s.aborted) bridge.abort();
    else s.addEventListener("abort", () => bridge.abort(), { once: true });
    return [bridge.signal];
  });
  return AbortSignal.any(real);
}

/** A per-call deadline joined with the ambient signal and the caller's own; `timedOut()` tells the deadline from the others. */
export function deadline(timeoutMs: number, ...others: (AbortSignalLike | undefined)[]): { signal: AbortSignal; timedOut(): boolean } {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = anySignal([timeout, ambientAbortSignal(), ...others]);
  // The caller's abort wins when both fired: it was asked for, the timeout merely coincided.
  return { signal, timedOut: () => timeout.aborted && !others.some((o) => o?.aborted) && !ambientAbortSignal()?.aborted };
}

/**
 * core-rest-pipeline policy for every ARM, Log Analytics and LRO request: one limit per try (headers and body), the
 * ambient signal, and a RequestTimeoutError instead of the SDK's bare AbortError. Not a RestError, so the SDK's retry
 * policy passes it straight up and the engine retries it on its own backoff and budget.
 */
export function requestTimeoutPolicy(service = "Azure"): PipelinePolicy {
  return {
    name: "portalRequestTimeout",
    async sendRequest(request, next) {
      const ms = requestTimeoutMs();
      const original = request.abortSignal;
      const limit = deadline(ms, original);
      request.abortSignal = limit.signal;
      try {
        const response = await next(request);
        noteAnswer();
        return response;
      } catch (error) {
        if (limit.timedOut()) throw new RequestTimeoutError(service, ms);
        throw error;
      } finally {
        // The retry policy sends the same request object again: the next try gets a fresh limit.
        request.abortSignal = original;
      }
    },
  };
}

/** The per-try policy in the shape every Azure SDK client's options accept. */
export function timeoutPolicies(service = "Azure"): { policy: PipelinePolicy; position: "perRetry" }[] {
  return [{ policy: requestTimeoutPolicy(service), position: "perRetry" }];
}

/**
 * graph-client middleware placed right before its HTTP handler, so each try of its RetryHandler gets its own limit. The
 * signal stays on the fetch, so reading the body is bounded too (graph-client reports that as code "TimeoutError").
 */
export class GraphTimeoutHandler implements Middleware {
  private next: Middleware | undefined;

  async execute(context: Context): Promise<void> {
    if (!this.next) throw new Error("GraphTimeoutHandler must not be the last middleware");
    const ms = requestTimeoutMs();
    const options = context.options;
    const limit = deadline(ms, options?.signal ?? undefined);
    context.options = { ...options, signal: limit.signal };
    try {
      await this.next.execute(context);
      noteAnswer();
    } catch (error) {
      if (limit.timedOut()) throw new RequestTimeoutError("Microsoft Graph", ms);
      throw error;
    } finally {
      context.options = options;
    }
  }

  setNext(next: Middleware): void {
    this.next = next;
  }
}

/** MSAL's errorCode for a timed-out token or metadata request from timedMsalNetwork. */
export const MSAL_TIMEOUT_CODE = "request_timeout";

/**
 * MSAL's network module (fetch, like its default) with a limit on every call. A timed-out token request rejects with
 * an AuthError MSAL passes through; MSAL swallows a failed metadata fetch into its own error, hence `onTimeout`.
 */
export function timedMsalNetwork(onTimeout: () => void = () => {}): INetworkModule {
  const send = async <T>(
    url: string,
    method: "GET" | "POST",
    options: NetworkRequestOptions | undefined,
    msalTimeoutMs?: number,
  ): Promise<NetworkResponse<T>> => {
    const ms = Math.min(requestTimeoutMs(), msalTimeoutMs && msalTimeoutMs > 0 ? msalTimeoutMs : Number.POSITIVE_INFINITY);
    const limit = deadline(ms);
    try {
      const res = await fetch(url, {
        method,
        headers: options?.headers,
        body: method === "POST" ? (options?.body ?? "") : undefined,
        signal: limit.signal,
      });
      noteAnswer();
      const headers: Record<string, string> = {};
      res.headers.forEach((value, key) => {
        headers[key] = value;
      });
      return { headers, body: (await res.json()) as T, status: res.status };
    } catch (error) {
      if (limit.timedOut()) {
        onTimeout();
        throw new AuthError(MSAL_TIMEOUT_CODE, "", `The sign-in authority did not answer within ${formatSeconds(ms)}`);
      }
      throw error;
    }
  };
  return {
    sendGetRequestAsync: (url, options, timeout) => send(url, "GET", options, timeout),
    sendPostRequestAsync: (url, options) => send(url, "POST", options),
  };
}
