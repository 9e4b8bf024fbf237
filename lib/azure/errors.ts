// Maps Azure and Graph failures to domain errors with text an admin can act on.
import { z } from "zod";

export const AZURE_ERROR_CODES = [
  "reauth_required",
  "forbidden",
  "not_found",
  "throttled",
  "unavailable",
  "conflict",
  "invalid_request",
  "unknown",
] as const;
export type AzureErrorCode = (typeof AZURE_ERROR_CODES)[number];

/** A failed Azure call, safe to show: never carries the raw response body. */
export class AzureOperationError extends Error {
  constructor(
    readonly code: AzureErrorCode,
    message: string,
    readonly azureCode?: string,
    readonly status?: number,
    readonly requestId?: string,
  ) {
    super(message);
    this.name = "AzureOperationError";
  }
}

const restErrorSchema = z.object({
  statusCode: z.number().optional(),
  code: z.string().optional(),
  request: z.object({ requestId: z.string().optional() }).optional(),
  response: z.object({ headers: z.object({ get: z.function() }).optional() }).optional(),
});

/** What the admin was doing, to phrase the message: "list the clusters in Contoso Production". */
export interface ErrorContext {
  action: string;
  /** Who can fix a permission problem, e.g. "an Owner of the subscription". */
  whoCanGrant?: string;
  /** The role the action needs, e.g. "Owner or User Access Administrator". */
  requiredRole?: string;
}

/** Turn anything an SDK threw into an AzureOperationError. */
export function toAzureError(error: unknown, ctx: ErrorContext): AzureOperationError {
  if (error instanceof AzureOperationError) return error;
  const parsed = restErrorSchema.safeParse(error);
  const status = parsed.success ? parsed.data.statusCode : undefined;
  const azureCode = parsed.success ? parsed.data.code : undefined;
  const requestId = parsed.success ? parsed.data.request?.requestId : undefined;
  const make = (code: AzureErrorCode, message: string) => new AzureOperationError(code, message, azureCode, status, requestId);

  if (status === 401 || azureCode === "InvalidAuthenticationToken" || azureCode === "ExpiredAuthenticationToken") {
    return make("reauth_required", `Your Microsoft sign-in is no longer valid, so the portal could not ${ctx.action}. Sign in again.`);
  }
  if (status === 403) {
    const role = ctx.requiredRole ? ` It needs ${ctx.requiredRole}.` : "";
    const who = ctx.whoCanGrant ?? "an Owner of the subscription";
    return make("forbidden", `You don't have permission to ${ctx.action}.${role} Ask ${who} to grant it, or ask them to continue this step.`);
  }
  if (status === 404) return make("not_found", `Azure could not find what was needed to ${ctx.action}. It may have been deleted.`);
  if (status === 429) return make("throttled", `Azure is throttling requests, so the portal could not ${ctx.action}. Wait a minute and retry.`);
  if (status === 409) return make("conflict", `Azure reported a conflict while trying to ${ctx.action}.`);
  if (status !== undefined && status >= 500) {
    return make("unavailable", `Azure had a temporary problem while trying to ${ctx.action}. Retry in a moment.`);
  }
  if (status === 400) return make("invalid_request", `Azure rejected the request to ${ctx.action}.`);
  if (isNetworkError(error)) {
    return make("unavailable", `Azure could not be reached to ${ctx.action}. Check the portal's network and endpoint configuration.`);
  }
  return make("unknown", `Something unexpected happened while trying to ${ctx.action}. Retry; if it persists, contact support.`);
}

function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && ["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "ECONNRESET", "REQUEST_SEND_ERROR"].includes(code);
}
