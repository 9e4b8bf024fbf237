// Maps Azure and Graph failures to domain errors with text an admin can act on.
import "server-only";
import { z } from "zod";
import { describeViolation, policyViolationsOf } from "./policy-denial";
import { formatSeconds, requestTimeoutMs, RequestTimeoutError } from "./timeouts";

export const AZURE_ERROR_CODES = [
  "reauth_required",
  "forbidden",
  "not_found",
  "throttled",
  "unavailable",
  "conflict",
  "invalid_request",
  "unknown",
  "provider_not_registered",
  "provider_registering",
  "name_taken",
  "name_invalid",
  "sink_in_use",
  "diagnostic_settings_limit",
  "region_mismatch",
  "role_assignment_exists",
  "role_assignment_conflict",
  "role_name_taken",
  "principal_not_found",
  "role_definition_not_found",
  "application_not_replicated",
  "already_exists",
  "role_definition_in_use",
  "timeout",
  "policy_denied",
  "scope_locked",
  "subscription_disabled",
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
    /** How long the service asked us to wait before retrying (Retry-After of a 429/503), already capped. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "AzureOperationError";
  }
}

// RestError (ARM SDKs) and GraphError (graph-client) both carry statusCode/code/message; Graph's code may be null.
// Response headers are read apart (retryAfterOfError), so an odd `response` cannot cost us the status.
const restErrorSchema = z.object({
  statusCode: z.number().optional(),
  code: z.string().nullish(),
  message: z.string().optional(),
  requestId: z.string().nullish(),
  request: z.object({ requestId: z.string().optional() }).optional(),
  body: z.unknown().optional(),
  details: z.unknown().optional(),
});

/** Longest Retry-After an error keeps: a larger value is far more likely a broken header than real advice. */
export const RETRY_AFTER_CAP_MS = 10 * 60_000;

// Non-negative decimal only: rejects "-1", "1e3", "Infinity", "0x10" that Number() would accept.
const DECIMAL = /^\d+(?:\.\d+)?$/;
// Every HTTP-date form (IMF-fixdate, RFC 850, asctime) opens with a day name; Date.parse alone accepts "5" or "-1".
const HTTP_DATE = /^[A-Za-z]{3}/;

function cappedMs(ms: number): number {
  return Math.min(RETRY_AFTER_CAP_MS, Math.ceil(ms));
}

/**
 * Milliseconds a response asks the client to wait, from `retry-after-ms`, `x-ms-retry-after-ms` (Azure) or
 * `retry-after` (seconds or HTTP date), in that order, as core-rest-pipeline's throttling policy reads them.
 * Accepts anything with a `get(name)` (fetch Headers, core-rest-pipeline HttpHeaders); garbage, negative and
 * past values are ignored, large ones capped at RETRY_AFTER_CAP_MS.
 */
export function retryAfterFromHeaders(headers: unknown, now: number = Date.now()): number | undefined {
  if (typeof headers !== "object" || headers === null) return undefined;
  const get: unknown = (headers as { get?: unknown }).get;
  if (typeof get !== "function") return undefined;
  const read = (name: string): string | undefined => {
    let value: unknown;
    try {
      value = (get as (n: string) => unknown).call(headers, name);
    } catch {
      return undefined;
    }
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  };
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const value = read(name);
    if (value !== undefined && DECIMAL.test(value)) return cappedMs(Number(value));
  }
  const retryAfter = read("retry-after");
  if (retryAfter === undefined) return undefined;
  if (DECIMAL.test(retryAfter)) return cappedMs(Number(retryAfter) * 1000);
  if (!HTTP_DATE.test(retryAfter)) return undefined;
  const at = Date.parse(retryAfter);
  // A date already past (or our clock ahead of Azure's) says nothing; the caller's own backoff is the safer wait.
  return Number.isFinite(at) && at > now ? cappedMs(at - now) : undefined;
}

/**
 * Retry-After carried by one thrown value: its own `retryAfterMs` (AzureOperationError), a RestError's
 * `response.headers` (ARM SDKs) or a GraphError's `headers` (graph-client). Does not follow `cause`.
 */
export function retryAfterOfError(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const e = error as { retryAfterMs?: unknown; response?: unknown; headers?: unknown };
  if (typeof e.retryAfterMs === "number" && Number.isFinite(e.retryAfterMs) && e.retryAfterMs >= 0) return cappedMs(e.retryAfterMs);
  const response = e.response;
  const fromResponse =
    typeof response === "object" && response !== null ? retryAfterFromHeaders((response as { headers?: unknown }).headers) : undefined;
  return fromResponse ?? retryAfterFromHeaders(e.headers);
}

const innerDetailsSchema = z.object({
  details: z.array(z.object({ code: z.string().optional() })).optional(),
  error: z.object({ details: z.array(z.object({ code: z.string().optional() })).optional() }).optional(),
});

/** What the admin was doing, to phrase the message: "list the clusters in Contoso Production". */
export interface ErrorContext {
  action: string;
  /** Who can fix a permission problem, e.g. "an Owner of the subscription". */
  whoCanGrant?: string;
  /** The role the action needs, e.g. "Owner or User Access Administrator". */
  requiredRole?: string;
}

/** Codes inside Graph's `details` (GraphError.body is the error JSON as a string) or an ARM error's details. */
function innerCodes(body: unknown, details: unknown): string[] {
  const out: string[] = [];
  for (const candidate of [body, details]) {
    let value = candidate;
    if (typeof value === "string") {
      try {
        value = JSON.parse(value) as unknown;
      } catch {
        continue;
      }
    }
    const parsed = innerDetailsSchema.safeParse(value);
    if (!parsed.success) continue;
    for (const d of [...(parsed.data.details ?? []), ...(parsed.data.error?.details ?? [])]) if (d.code) out.push(d.code);
  }
  return out;
}

/** ARM's error envelope read from a raw REST answer, so toAzureError sees its code and message as it does for SDK errors. */
export function armErrorFields(text: string | undefined): { code?: string; message?: string } {
  try {
    const e = (JSON.parse(text ?? "{}") as { error?: { code?: unknown; message?: unknown } }).error;
    return { code: typeof e?.code === "string" ? e.code : undefined, message: typeof e?.message === "string" ? e.message : undefined };
  } catch {
    return {};
  }
}

/** Turn anything an SDK threw into an AzureOperationError. */
export function toAzureError(error: unknown, ctx: ErrorContext): AzureOperationError {
  if (error instanceof AzureOperationError) return error;
  const parsed = restErrorSchema.safeParse(error);
  const data = parsed.success ? parsed.data : undefined;
  const status = data?.statusCode;
  const inner = data ? innerCodes(data.body, data.details) : [];
  // Graph puts the precise reason (NoBackingApplicationObject) in details under a generic Request_BadRequest.
  const azureCode = inner.find((c) => c === "NoBackingApplicationObject") ?? data?.code ?? undefined;
  const requestId = data?.request?.requestId ?? data?.requestId ?? undefined;
  const azureMessage = data?.message ?? "";
  // Kept so the engine can wait as long as Azure asked once the SDK's own retries gave up on a 429/503.
  const retryAfterMs = retryAfterOfError(error);
  const make = (code: AzureErrorCode, message: string) =>
    new AzureOperationError(code, message, azureCode, status, requestId, retryAfterMs);

  const timeoutMs = timeoutOf(error);
  if (timeoutMs !== undefined) {
    return make(
      "timeout",
      `${serviceOf(error)} did not answer within ${formatSeconds(timeoutMs)}, so the portal could not ${ctx.action}. Retry; if it keeps happening, the service is slow or unreachable from the portal.`,
    );
  }

  if (azureCode === "RequestDisallowedByPolicy") return make("policy_denied", policyDenied(error, azureMessage, ctx.action));

  const specific = specificError(azureCode, azureMessage, status, ctx);
  if (specific) return make(specific.code, specific.message);

  if (status === 401 || azureCode === "InvalidAuthenticationToken" || azureCode === "ExpiredAuthenticationToken") {
    return make("reauth_required", `Your Microsoft sign-in is no longer valid, so the portal could not ${ctx.action}. Sign in again.`);
  }
  if (status === 403) {
    const role = ctx.requiredRole ? ` It needs ${ctx.requiredRole}.` : "";
    const who = ctx.whoCanGrant ?? "an Owner of the subscription";
    return make(
      "forbidden",
      `You don't have permission to ${ctx.action}.${role} Ask ${who} to grant it, or ask them to continue this step.`,
    );
  }
  if (status === 404) return make("not_found", `Azure could not find what was needed to ${ctx.action}. It may have been deleted.`);
  if (status === 429)
    return make("throttled", `Azure is throttling requests, so the portal could not ${ctx.action}. Wait a minute and retry.`);
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

/** Azure codes (and, where Azure reuses a generic code, its message) that need their own advice. */
function specificError(
  azureCode: string | undefined,
  azureMessage: string,
  status: number | undefined,
  ctx: ErrorContext,
): { code: AzureErrorCode; message: string } | undefined {
  const { action } = ctx;
  switch (azureCode) {
    case "MissingSubscriptionRegistration": {
      const ns = /namespace '([^']+)'/i.exec(azureMessage)?.[1] ?? "the resource provider";
      return providerNotRegistered(ns, action);
    }
    case "StorageAccountAlreadyTaken":
      return {
        code: "name_taken",
        message: `That storage account name is already used somewhere in Azure (names are global), so the portal could not ${action}. Choose another name.`,
      };
    case "StorageAccountAlreadyExists":
      return {
        code: "name_taken",
        message: `A storage account with that name already exists in another resource group of this subscription, so the portal could not ${action}. Choose another name or use that account.`,
      };
    case "AccountNameInvalid":
      return {
        code: "name_invalid",
        message: `The storage account name is invalid, so the portal could not ${action}. Use 3 to 24 lowercase letters and digits.`,
      };
    case "RoleAssignmentExists":
      // Same principal, role and scope already assigned under another name: the access exists, verify and move on.
      return { code: "role_assignment_exists", message: `The role assignment already exists, so there was nothing to do to ${action}.` };
    case "RoleAssignmentUpdateNotPermitted":
      return {
        code: "role_assignment_conflict",
        message: `A role assignment with the same name exists for a different principal or role, so the portal could not ${action}. Remove it in the Azure portal and retry.`,
      };
    case "RoleDefinitionWithSameNameExists":
      return {
        code: "role_name_taken",
        message: `Another custom role already uses this role name, so the portal could not ${action}. Rename or delete that role and retry.`,
      };
    case "PrincipalNotFound":
      return {
        code: "principal_not_found",
        message: `Azure does not see the new service principal yet (Entra ID replication), so the portal could not ${action}. It usually appears within a minute; retry.`,
      };
    case "RoleDefinitionDoesNotExist":
      if (status === 404) return undefined;
      return {
        code: "role_definition_not_found",
        message: `Azure does not see the custom role at this scope yet (role definitions take a few minutes to replicate), so the portal could not ${action}. Retry in a few minutes.`,
      };
    case "RoleDefinitionHasAssignments":
      // Azure refuses to delete a role that any assignment (anywhere in its assignable scopes) still uses.
      return {
        code: "role_definition_in_use",
        message: `The custom role is still assigned, so the portal could not ${action}. Remove the remaining assignments of the role (an Owner or User Access Administrator can), then retry.`,
      };
    case "NoBackingApplicationObject":
      return {
        code: "application_not_replicated",
        message: `Entra ID has not finished replicating the new app registration, so the portal could not ${action}. Retry in a few seconds.`,
      };
    case "ScopeLocked": {
      // "The scope '…' cannot perform delete operation because following scope(s) are locked: '…'. Please remove the lock and try again."
      const operation = /cannot perform (\w+) operation/i.exec(azureMessage)?.[1] ?? "this";
      const locked = /are locked: (.+?)\.? Please remove/i.exec(azureMessage)?.[1]?.replace(/'/g, "") ?? "a parent scope";
      return {
        code: "scope_locked",
        // Deleting a lock needs Microsoft.Authorization/locks/delete: of the built-in roles only Owner and User Access Administrator (ARM Management Locks REST reference).
        message: `A resource lock on ${locked} blocks every ${operation}, so the portal could not ${action}. An Owner or User Access Administrator of that scope can remove the lock (Azure portal → Locks); then retry.`,
      };
    }
    case "ReadOnlyDisabledSubscription": {
      const sub = /subscription '([^']+)'/i.exec(azureMessage)?.[1];
      return {
        code: "subscription_disabled",
        // Microsoft Learn "Reactivate a disabled Azure subscription": the Account Administrator / billing owner re-enables it.
        message: `The subscription${sub ? ` ${sub}` : ""} is disabled and read-only, so the portal could not ${action}. Its Account Administrator or billing owner must re-enable it (Azure portal → Subscriptions); then retry.`,
      };
    }
    case "Request_MultipleObjectsWithSameKeyValue":
      return { code: "already_exists", message: `It already exists in Entra ID, so there was nothing to do to ${action}.` };
    default:
      break;
  }
  // Azure Monitor answers a bare 409 "Conflict" when Microsoft.Insights is not registered.
  const insights = /is not registered to use ([\w.]+?)\.?$/i.exec(azureMessage);
  if (status === 409 && insights?.[1]) return providerNotRegistered(insights[1], action);
  const sink = /already used in diagnostic setting '([^']+)'/i.exec(azureMessage);
  if (status === 409 && sink) {
    return {
      code: "sink_in_use",
      message: `Diagnostic setting '${sink[1] ?? ""}' on this cluster already sends the same logs to this storage account, and Azure allows only one, so the portal could not ${action}. Reuse or remove that setting and retry.`,
    };
  }
  if (status === 400 && /count exceeds the limit/i.test(azureMessage)) {
    return {
      code: "diagnostic_settings_limit",
      message: `The cluster already has the maximum of 5 diagnostic settings, so the portal could not ${action}. Remove one that is no longer needed and retry.`,
    };
  }
  if (status === 400 && /should be in the same region/i.test(azureMessage)) {
    return {
      code: "region_mismatch",
      message: `The storage account is in a different region than the cluster, so the portal could not ${action}. Azure needs an account in the cluster's region.`,
    };
  }
  if (status === 400 && azureCode === "Request_BadRequest" && /already exists/i.test(azureMessage)) {
    // Graph: "Permission being assigned already exists on the object" for a repeated appRoleAssignedTo grant.
    return { code: "already_exists", message: `It already exists, so there was nothing to do to ${action}.` };
  }
  return undefined;
}

/** A RequestDisallowedByPolicy in words: each assignment, what it demands and what to change; never the raw JSON. */
function policyDenied(error: unknown, azureMessage: string, action: string): string {
  const violations = policyViolationsOf(error, azureMessage);
  if (violations.length === 0) {
    return `An Azure Policy assignment denied the request, so the portal could not ${action}. Check the subscription's policy assignments in the Azure portal (Policy → Assignments), or ask someone with Resource Policy Contributor or Owner for an exemption.`;
  }
  // An assignment listed twice reads the same: say it once.
  const sentences = [...new Set(violations.map(describeViolation))];
  return `Azure Policy denied the request, so the portal could not ${action}. ${sentences.join(" ")}`;
}

function providerNotRegistered(ns: string, action: string): { code: AzureErrorCode; message: string } {
  return {
    code: "provider_not_registered",
    message: `The subscription is not registered for ${ns}, so the portal could not ${action}. Register the resource provider (an Owner or Contributor can) and retry.`,
  };
}

// graph-client turns what its middleware throws into a GraphError whose code is the thrown error's name; a body read cut
// off by the signal surfaces as DOMException "TimeoutError" (AbortSignal.timeout's reason).
const TIMEOUT_NAMES = ["RequestTimeoutError", "TimeoutError"];

/** The limit a timed-out call ran into (ms), or undefined when `error` is no timeout. */
function timeoutOf(error: unknown): number | undefined {
  if (error instanceof RequestTimeoutError) return error.timeoutMs;
  const e = error as { name?: unknown; code?: unknown } | null;
  if (typeof e?.name === "string" && TIMEOUT_NAMES.includes(e.name)) return requestTimeoutMs();
  if (typeof e?.code === "string" && TIMEOUT_NAMES.includes(e.code)) return requestTimeoutMs();
  return undefined;
}

function serviceOf(error: unknown): string {
  if (error instanceof RequestTimeoutError) return error.service;
  return typeof (error as { statusCode?: unknown } | null)?.statusCode === "number" ? "Microsoft Graph" : "Azure";
}

const NETWORK_CODES = ["ECONNREFUSED", "ENOTFOUND", "ETIMEDOUT", "ECONNRESET", "REQUEST_SEND_ERROR"];

function isNetworkError(error: unknown): boolean {
  const e = error as { code?: unknown; cause?: { code?: unknown }; statusCode?: unknown; message?: unknown } | null;
  if (typeof e?.code === "string" && NETWORK_CODES.includes(e.code)) return true;
  if (typeof e?.cause?.code === "string" && NETWORK_CODES.includes(e.cause.code)) return true;
  // graph-client wraps a failed fetch as GraphError(statusCode -1, code "TypeError", "fetch failed") and drops the cause.
  return e?.statusCode === -1 && e.message === "fetch failed";
}

/** How a retry layer should treat a failure. */
export type AzureErrorClass = "transient" | "replication" | "permanent";

const TRANSIENT_CODES: readonly AzureErrorCode[] = ["throttled", "unavailable", "provider_registering", "timeout"];
const REPLICATION_CODES: readonly AzureErrorCode[] = ["principal_not_found", "role_definition_not_found", "application_not_replicated"];
// ARM's "try again" conflicts: another write on the same resource is still running.
const TRANSIENT_AZURE_CODES = ["AnotherOperationInProgress", "RetryableError", "ServerBusy", "OperationPreempted"];

/** For a retry layer: retry soon (transient), retry for minutes (replication), or stop and show (permanent). */
export function classifyAzureError(error: unknown): AzureErrorClass {
  const e = toAzureError(error, { action: "complete the operation" });
  if (REPLICATION_CODES.includes(e.code)) return "replication";
  if (TRANSIENT_CODES.includes(e.code)) return "transient";
  if (e.azureCode && TRANSIENT_AZURE_CODES.includes(e.azureCode)) return "transient";
  return "permanent";
}
