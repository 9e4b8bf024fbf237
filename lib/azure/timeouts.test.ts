import { randomBytes } from "node:crypto";
import { createHttpHeaders, createPipelineRequest, type PipelineRequest, type PipelineResponse } from "@azure/core-rest-pipeline";
import { AuthError } from "@azure/msal-node";
import type { Context, Middleware } from "@microsoft/microsoft-graph-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  GraphTimeoutHandler,
  MSAL_TIMEOUT_CODE,
  RequestTimeoutError,
  requestTimeoutPolicy,
  timedMsalNetwork,
  withOutboundScope,
} from "./timeouts";

vi.stubEnv("ENCRYPTION_KEY", randomBytes(32).toString("base64"));
vi.stubEnv("ENTRA_CLIENT_ID", "00000000-0000-4000-8000-000000000001");
vi.stubEnv("ENTRA_CLIENT_SECRET", "test-secret");
vi.stubEnv("AZURE_REQUEST_TIMEOUT_SECONDS", "0.2");

/** A transport that never answers; it rejects like core-rest-pipeline's node client once the request's signal aborts. */
function hangingTransport(seen: (AbortSignal | undefined)[] = []) {
  return (request: PipelineRequest) =>
    new Promise<PipelineResponse>((_, reject) => {
      const signal = request.abortSignal as AbortSignal | undefined;
      seen.push(signal);
      signal?.addEventListener("abort", () => reject(Object.assign(new Error("The operation was aborted."), { name: "AbortError" })));
    });
}

const answer = (request: PipelineRequest): Promise<PipelineResponse> =>
  Promise.resolve({ request, status: 200, headers: createHttpHeaders() });

describe("requestTimeoutPolicy", () => {
  it("fails a request without an answer after the configured limit with a RequestTimeoutError, and restores the request's own signal", async () => {
    const own = new AbortController();
    const request = createPipelineRequest({ url: "https://management.example/x", abortSignal: own.signal });
    const started = Date.now();
    const error = await requestTimeoutPolicy()
      .sendRequest(request, hangingTransport())
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ service: "Azure", timeoutMs: 200, message: "Azure did not answer within 0.2 s" });
    // The SDK's retry policy sends the same request object again: it must not carry the spent limit.
    expect(request.abortSignal).toBe(own.signal);
  });

  it("gives each try its own limit", async () => {
    const policy = requestTimeoutPolicy();
    const request = createPipelineRequest({ url: "https://management.example/x" });
    const seen: (AbortSignal | undefined)[] = [];
    await policy.sendRequest(request, hangingTransport(seen)).catch(() => undefined);
    const second = policy.sendRequest(request, hangingTransport(seen)).catch((e: unknown) => e);
    expect(seen[1]?.aborted).toBe(false);
    expect(await second).toBeInstanceOf(RequestTimeoutError);
  });

  it("passes the caller's abort and the surrounding execution's abort through as aborts, not timeouts", async () => {
    const own = new AbortController();
    const mine = requestTimeoutPolicy().sendRequest(
      createPipelineRequest({ url: "https://management.example/x", abortSignal: own.signal }),
      hangingTransport(),
    );
    own.abort();
    await expect(mine).rejects.toMatchObject({ name: "AbortError" });

    const execution = new AbortController();
    const ambient = withOutboundScope({ signal: execution.signal, onAnswer: () => {} }, () =>
      requestTimeoutPolicy().sendRequest(createPipelineRequest({ url: "https://management.example/x" }), hangingTransport()),
    );
    execution.abort();
    const error = await ambient.catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ name: "AbortError" });
  });

  it("reports every answer to the surrounding execution", async () => {
    const onAnswer = vi.fn();
    await withOutboundScope({ signal: new AbortController().signal, onAnswer }, async () => {
      await requestTimeoutPolicy().sendRequest(createPipelineRequest({ url: "https://management.example/a" }), answer);
      await requestTimeoutPolicy().sendRequest(createPipelineRequest({ url: "https://management.example/b" }), answer);
    });
    expect(onAnswer).toHaveBeenCalledTimes(2);
  });
});

describe("GraphTimeoutHandler", () => {
  it("fails a Graph request without an answer after the limit and leaves the context's options as they were", async () => {
    const handler = new GraphTimeoutHandler();
    const fetchLike: Middleware = {
      execute: (context) =>
        new Promise<void>((_, reject) => {
          const signal = context.options?.signal as AbortSignal | undefined;
          signal?.addEventListener("abort", () => reject(signal.reason as Error));
        }),
    };
    handler.setNext(fetchLike);
    const options = { method: "GET" };
    const context: Context = { request: "https://graph.example/v1.0/applications", options };
    await expect(handler.execute(context)).rejects.toMatchObject({
      name: "RequestTimeoutError",
      service: "Microsoft Graph",
      timeoutMs: 200,
    });
    expect(context.options).toBe(options);
  });
});

describe("timedMsalNetwork", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("fails a token request the authority doesn't answer with an AuthError MSAL passes through, and says so", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(
        (_url: string, init: RequestInit) =>
          new Promise<Response>((_, reject) => init.signal?.addEventListener("abort", () => reject(init.signal?.reason as Error))),
      ),
    );
    const onTimeout = vi.fn();
    const error = await timedMsalNetwork(onTimeout)
      .sendPostRequestAsync("https://login.example/tenant/oauth2/v2.0/token", { body: "grant_type=client_credentials" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ errorCode: MSAL_TIMEOUT_CODE, errorMessage: "The sign-in authority did not answer within 0.2 s" });
    expect(onTimeout).toHaveBeenCalledTimes(1);
  });

  it("answers like MSAL's own client: status, lower-case headers, parsed body", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => new Response(JSON.stringify({ access_token: "t" }), { status: 200, headers: { "X-Ms-Request-Id": "r1" } })),
    );
    const res = await timedMsalNetwork().sendGetRequestAsync<{ access_token: string }>("https://login.example/x");
    expect(res).toMatchObject({ status: 200, body: { access_token: "t" }, headers: { "x-ms-request-id": "r1" } });
  });
});
