// Microsoft Graph client with the signed-in admin's delegated token, and zod-checked requests.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { Client, MiddlewareFactory } from "@microsoft/microsoft-graph-client";
import type { z } from "zod";
import { env } from "@/lib/env";
import { GraphRequestLogHandler } from "./request-log-policy";
import { GraphTimeoutHandler } from "./timeouts";

/** A graph-client for the configured Graph endpoint; every request asks `credential` for a Graph token and has a time limit. */
export function graphClient(credential: TokenCredential): Client {
  const endpoint = env().GRAPH_ENDPOINT;
  const chain = MiddlewareFactory.getDefaultMiddlewareChain({
    getAccessToken: async () => {
      const token = await credential.getToken(`${env().GRAPH_AUDIENCE}/.default`);
      if (!token) throw new Error("No Microsoft Graph token is available for this session.");
      return token.token;
    },
  });
  // The default chain ends with the handler that calls fetch; the limit goes right before it, inside the RetryHandler, and
  // the request log right before the limit, so it records every try and sees a timeout as one.
  chain.splice(chain.length - 1, 0, new GraphRequestLogHandler(), new GraphTimeoutHandler());
  return Client.initWithMiddleware({
    baseUrl: `${endpoint}/`,
    // Without customHosts graph-client silently sends no Authorization header to a host it doesn't know as Graph.
    customHosts: new Set([new URL(endpoint).hostname]),
    middleware: chain,
  });
}

/** Parse a Graph payload; a shape change surfaces as an error here, not as undefined fields later. */
export function parseGraph<T>(schema: z.ZodType<T>, body: unknown, what: string): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(`Unexpected Microsoft Graph response for ${what}: ${issue?.path.join(".") ?? ""} ${issue?.message ?? ""}`.trim());
}

/** Graph's 404 (Request_ResourceNotFound), for reads that answer null when the object is absent. */
export function isGraphNotFound(error: unknown): boolean {
  return (error as { statusCode?: unknown } | null)?.statusCode === 404;
}

/** OData string literal: single quotes doubled. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
