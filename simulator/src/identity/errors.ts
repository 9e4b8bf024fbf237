// Entra's OAuth error body: {error, error_description "AADSTSnnnn: …", error_codes, timestamp, trace_id, correlation_id}.
import crypto from "node:crypto";
import type { RawResponse } from "../server";

/** Entra's timestamp format in error bodies: "2026-11-27 04:05:06Z". */
export function entraTimestamp(d = new Date()): string {
  return d
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

/** An OAuth error as the v2 token endpoint returns it. */
export function entraError(status: number, error: string, code: number, message: string): RawResponse {
  const traceId = crypto.randomUUID();
  const correlationId = crypto.randomUUID();
  const timestamp = entraTimestamp();
  return {
    status,
    headers: { "cache-control": "no-store, no-cache", "x-ms-request-id": traceId },
    body: {
      error,
      error_description: `AADSTS${code}: ${message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `https://login.microsoftonline.com/error?code=${code}`,
    },
  };
}
