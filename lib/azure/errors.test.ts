import { randomBytes } from "node:crypto";
import { createHttpHeaders, createPipelineRequest, RestError } from "@azure/core-rest-pipeline";
import { afterEach, describe, expect, it, vi } from "vitest";
import { GraphError } from "@microsoft/microsoft-graph-client";
import { AzureOperationError, classifyAzureError, RETRY_AFTER_CAP_MS, retryAfterFromHeaders, toAzureError } from "./errors";
import { RequestTimeoutError } from "./timeouts";
import { WorkbenchError, workbenchRequest } from "@/lib/workbench/client";

const ctx = { action: "list the clusters in Production", requiredRole: "Reader", whoCanGrant: "an Owner of Production" };

// Workbench requests and timeout messages read the configured request limit; env() parses once per process.
vi.stubEnv("ENCRYPTION_KEY", randomBytes(32).toString("base64"));
vi.stubEnv("ENTRA_CLIENT_ID", "00000000-0000-4000-8000-000000000001");
vi.stubEnv("ENTRA_CLIENT_SECRET", "test-secret");
vi.stubEnv("AZURE_REQUEST_TIMEOUT_SECONDS", "0.2");

function rest(status: number, code: string) {
  return new RestError(`raw body {"error":{"code":"${code}"}}`, { statusCode: status, code });
}

describe("toAzureError", () => {
  it("names the role and who must act on 403, without the raw body", () => {
    const error = toAzureError(rest(403, "AuthorizationFailed"), ctx);
    expect(error.code).toBe("forbidden");
    expect(error.message).toContain("needs Reader");
    expect(error.message).toContain("an Owner of Production");
    expect(error.message).not.toContain("{");
    expect(error.azureCode).toBe("AuthorizationFailed");
  });

  it.each([
    [401, "InvalidAuthenticationToken", "reauth_required"],
    [404, "ResourceNotFound", "not_found"],
    [429, "TooManyRequests", "throttled"],
    [503, "ServiceUnavailable", "unavailable"],
    [409, "Conflict", "conflict"],
    [400, "InvalidRequest", "invalid_request"],
  ] as const)("maps %i %s to %s", (status, code, expected) => {
    expect(toAzureError(rest(status, code), ctx).code).toBe(expected);
  });

  it("maps network failures and unknown throwables", () => {
    expect(toAzureError(Object.assign(new Error("x"), { code: "ECONNREFUSED" }), ctx).code).toBe("unavailable");
    expect(toAzureError("boom", ctx).code).toBe("unknown");
  });

  it("passes domain errors through", () => {
    const original = new AzureOperationError("conflict", "already mapped");
    expect(toAzureError(original, ctx)).toBe(original);
  });
});

function restWith(status: number, code: string, message: string) {
  const e = new RestError(message, { statusCode: status, code });
  return e;
}

function graph(status: number, code: string | null, message: string, details?: { code: string }[]) {
  const e = new GraphError(status, message);
  e.code = code;
  e.requestId = "req-1";
  e.body = JSON.stringify({ code, message, ...(details ? { details } : {}) });
  return e;
}

describe("toAzureError: specific Azure codes", () => {
  it.each([
    [
      restWith(
        409,
        "MissingSubscriptionRegistration",
        "The subscription is not registered to use namespace 'Microsoft.Storage'. See https://aka.ms/rps-not-found",
      ),
      "provider_not_registered",
      "Microsoft.Storage",
    ],
    [
      restWith(409, "Conflict", "The subscription '2cf36c9a' is not registered to use microsoft.insights."),
      "provider_not_registered",
      "microsoft.insights",
    ],
    [restWith(409, "StorageAccountAlreadyTaken", "The storage account named aksaudit is already taken."), "name_taken", "global"],
    [
      restWith(409, "StorageAccountAlreadyExists", "The storage account named x already exists under the subscription."),
      "name_taken",
      "another resource group",
    ],
    [restWith(400, "AccountNameInvalid", "Bad_Name is not a valid storage account name."), "name_invalid", "3 to 24"],
    [
      restWith(
        409,
        "Conflict",
        "Data sink '/subscriptions/s/…/storageAccounts/a' is already used in diagnostic setting 'legacy' for category 'kube-audit'. Data sinks can't be reused in different settings on the same category for the same resource.",
      ),
      "sink_in_use",
      "'legacy'",
    ],
    [
      restWith(400, "BadRequest", "Diagnostic settings count exceeds the limit of 5 for resource '/subscriptions/…'."),
      "diagnostic_settings_limit",
      "5",
    ],
    [
      restWith(
        400,
        "BadRequest",
        "Resources should be in the same region. Resource 'x' is in region 'eastus' and storage account 'y' is in region 'westeurope'.",
      ),
      "region_mismatch",
      "region",
    ],
    [restWith(409, "RoleAssignmentExists", "The role assignment already exists."), "role_assignment_exists", "already exists"],
    [
      restWith(
        409,
        "RoleAssignmentUpdateNotPermitted",
        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
      ),
      "role_assignment_conflict",
      "different principal",
    ],
    [
      restWith(409, "RoleDefinitionWithSameNameExists", "A role definition cannot be updated with a name that already exists."),
      "role_name_taken",
      "role name",
    ],
    [
      restWith(
        409,
        "RoleDefinitionHasAssignments",
        "There are existing role assignments referencing role (code: RoleDefinitionHasAssignments).",
      ),
      "role_definition_in_use",
      "still assigned",
    ],
    [restWith(400, "PrincipalNotFound", "Principal x does not exist in the directory y."), "principal_not_found", "replication"],
    [
      restWith(400, "RoleDefinitionDoesNotExist", "The specified role definition with ID 'x' does not exist."),
      "role_definition_not_found",
      "replicate",
    ],
    [
      graph(400, "Request_BadRequest", "The appId 'x' of the service principal does not reference a valid application object.", [
        { code: "NoBackingApplicationObject" },
      ]),
      "application_not_replicated",
      "replicating",
    ],
    [graph(400, "Request_BadRequest", "Permission being assigned already exists on the object"), "already_exists", "already exists"],
    [
      graph(409, "Request_MultipleObjectsWithSameKeyValue", "The service principal name x is already in use."),
      "already_exists",
      "already exists",
    ],
  ] as const)("maps %#: %s", (error, code, phrase) => {
    const mapped = toAzureError(error, ctx);
    expect(mapped.code).toBe(code);
    expect(mapped.message).toContain(phrase);
    expect(mapped.message).toContain(ctx.action);
    expect(mapped.azureCode).toBeDefined();
  });

  it("keeps the Graph code, status and request id; NoBackingApplicationObject wins over Request_BadRequest", () => {
    const mapped = toAzureError(graph(400, "Request_BadRequest", "x", [{ code: "NoBackingApplicationObject" }]), ctx);
    expect(mapped).toMatchObject({ azureCode: "NoBackingApplicationObject", status: 400, requestId: "req-1" });
  });

  it("maps Graph's 403 Authorization_RequestDenied to forbidden, naming the role", () => {
    const mapped = toAzureError(graph(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."), {
      action: "grant the app role",
      requiredRole: "Cloud Application Administrator",
      whoCanGrant: "a Global Administrator",
    });
    expect(mapped.code).toBe("forbidden");
    expect(mapped.message).toContain("Cloud Application Administrator");
    expect(mapped.azureCode).toBe("Authorization_RequestDenied");
  });

  it("maps a Graph request that never got a response (fetch failed) to unavailable", () => {
    const failed = new GraphError(-1, "fetch failed");
    failed.code = "TypeError";
    const mapped = toAzureError(failed, ctx);
    expect(mapped.code).toBe("unavailable");
    expect(classifyAzureError(failed)).toBe("transient");
    expect(toAzureError(Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } }), ctx).code).toBe("unavailable");
  });

  it("reads 'already exists' as a duplicate only in Graph's Request_BadRequest", () => {
    expect(toAzureError(restWith(400, "InvalidTemplate", "The resource already exists in the template."), ctx).code).toBe(
      "invalid_request",
    );
  });

  it("tolerates a GraphError whose code is null", () => {
    expect(toAzureError(graph(404, null, "gone"), ctx).code).toBe("not_found");
  });

  it("keeps a 404 RoleDefinitionDoesNotExist (a plain read) as not_found", () => {
    expect(toAzureError(restWith(404, "RoleDefinitionDoesNotExist", "x"), ctx).code).toBe("not_found");
  });
});

describe("classifyAzureError", () => {
  it.each([
    [rest(429, "TooManyRequests"), "transient"],
    [rest(503, "ServiceUnavailable"), "transient"],
    [rest(500, "InternalServerError"), "transient"],
    [Object.assign(new Error("x"), { code: "ECONNRESET" }), "transient"],
    [rest(409, "AnotherOperationInProgress"), "transient"],
    [new AzureOperationError("provider_registering", "still registering"), "transient"],
    [rest(400, "PrincipalNotFound"), "replication"],
    [rest(400, "RoleDefinitionDoesNotExist"), "replication"],
    [graph(400, "Request_BadRequest", "x", [{ code: "NoBackingApplicationObject" }]), "replication"],
    [rest(403, "AuthorizationFailed"), "permanent"],
    [rest(409, "MissingSubscriptionRegistration"), "permanent"],
    [rest(409, "RoleAssignmentExists"), "permanent"],
    [rest(409, "StorageAccountAlreadyTaken"), "permanent"],
    [rest(401, "ExpiredAuthenticationToken"), "permanent"],
    [rest(400, "InvalidRequestContent"), "permanent"],
    ["boom", "permanent"],
  ] as const)("classifies %#", (error, expected) => {
    expect(classifyAzureError(error)).toBe(expected);
  });
});

// A RestError as core-rest-pipeline throws it for a 429/503 the SDK's retry policy gave up on.
function throttledRest(headers: Record<string, string>, status = 429) {
  const request = createPipelineRequest({ url: "https://management.azure.com/subscriptions" });
  return new RestError("Too many requests", {
    statusCode: status,
    code: status === 429 ? "SubscriptionRequestsThrottled" : "ServiceUnavailable",
    request,
    response: { headers: createHttpHeaders(headers), request, status },
  });
}

describe("toAzureError: Retry-After", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it.each([
    [{ "retry-after-ms": "1500" }, 1500],
    [{ "x-ms-retry-after-ms": "250" }, 250],
    [{ "retry-after": "2" }, 2000],
    [{ "Retry-After": " 7 " }, 7000],
    [{ "retry-after": "0" }, 0],
    [{ "retry-after": "1.5" }, 1500],
    // retry-after-ms wins over retry-after, as in core-rest-pipeline's throttling policy.
    [{ "retry-after-ms": "300", "retry-after": "9" }, 300],
    // A garbage ms header falls through to the next one.
    [{ "retry-after-ms": "soon", "retry-after": "4" }, 4000],
    [{ "retry-after": "86400" }, RETRY_AFTER_CAP_MS],
    [{ "retry-after": "9".repeat(400) }, RETRY_AFTER_CAP_MS],
  ] as const)("reads %j from a RestError as %i ms", (headers, expected) => {
    const mapped = toAzureError(throttledRest(headers), ctx);
    expect(mapped).toMatchObject({ code: "throttled", status: 429, retryAfterMs: expected });
  });

  it("reads Retry-After as an HTTP date relative to now", () => {
    vi.useFakeTimers({ now: new Date("2026-11-27T05:00:00Z") });
    expect(toAzureError(throttledRest({ "retry-after": "Fri, 27 Nov 2026 05:00:30 GMT" }, 503), ctx)).toMatchObject({
      code: "unavailable",
      retryAfterMs: 30_000,
    });
    expect(toAzureError(throttledRest({ "retry-after": "Fri, 27 Nov 2026 06:00:00 GMT" }), ctx).retryAfterMs).toBe(RETRY_AFTER_CAP_MS);
  });

  it.each([
    [{}],
    [{ "retry-after": "-1" }],
    [{ "retry-after": "1e3" }],
    [{ "retry-after": "Infinity" }],
    [{ "retry-after": "0x10" }],
    [{ "retry-after": "soon" }],
    [{ "retry-after": "" }],
    [{ "retry-after-ms": "-5" }],
    [{ "x-ms-retry-after-ms": "NaN" }],
    [{ "retry-after": "Thu, 01 Jan 1970 00:00:00 GMT" }],
    [{ "retry-after": "Mon, 99 Foo 2026" }],
    // Not an HTTP date, though Date.parse would read it.
    [{ "retry-after": "2999-01-01T00:00:00Z" }],
  ] as const)("ignores missing, negative, garbage and past values: %j", (headers) => {
    const mapped = toAzureError(throttledRest(headers), ctx);
    expect(mapped.code).toBe("throttled");
    expect(mapped.retryAfterMs).toBeUndefined();
  });

  it("reads a GraphError's fetch headers", () => {
    const e = graph(429, "TooManyRequests", "Too many requests.");
    e.headers = new Headers({ "Retry-After": "3" });
    expect(toAzureError(e, ctx)).toMatchObject({ code: "throttled", retryAfterMs: 3000, requestId: "req-1" });
    expect(classifyAzureError(e)).toBe("transient");
  });

  it("tolerates header bags that are not Headers", () => {
    expect(retryAfterFromHeaders(undefined)).toBeUndefined();
    expect(retryAfterFromHeaders({ "retry-after": "3" })).toBeUndefined();
    expect(retryAfterFromHeaders({ get: () => 5 })).toBeUndefined();
    expect(
      retryAfterFromHeaders({
        get: () => {
          throw new Error("x");
        },
      }),
    ).toBeUndefined();
    const e = Object.assign(new Error("x"), { statusCode: 429, response: { headers: "retry-after: 3" } });
    expect(toAzureError(e, ctx)).toMatchObject({ code: "throttled", retryAfterMs: undefined });
  });

  it("keeps Workbench's Retry-After on a WorkbenchError", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(
        async () => new Response(JSON.stringify({ error: { code: "TooManyRequests" } }), { status: 429, headers: { "Retry-After": "12" } }),
      ),
    );
    const error = await workbenchRequest({ url: "https://workbench.example", apiKey: "k" }, "GET", "", null, "list the devices").catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkbenchError);
    expect(error).toMatchObject({ code: "throttled", status: 429, retryAfterMs: 12_000 });
    expect(classifyAzureError(error)).toBe("transient");
  });
});

describe("toAzureError: timeouts", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("makes a request that got no answer in time a transient timeout that names the service, the limit and the action", () => {
    const e = toAzureError(new RequestTimeoutError("Azure", 30_000), ctx);
    expect(e).toMatchObject({ code: "timeout" });
    expect(e.message).toBe(
      "Azure did not answer within 30 s, so the portal could not list the clusters in Production. Retry; if it keeps happening, the service is slow or unreachable from the portal.",
    );
    expect(classifyAzureError(new RequestTimeoutError("Azure", 30_000))).toBe("transient");
  });

  it("recognises the timeout behind graph-client's GraphError (the middleware's error, or a body read cut off by the signal)", () => {
    // graph-client keeps only the thrown error's name, as `code`, with statusCode -1.
    for (const code of ["RequestTimeoutError", "TimeoutError"]) {
      const graph = Object.assign(new GraphError(-1, "Microsoft Graph did not answer within 0.2 s"), { code });
      const e = toAzureError(graph, { action: "read the app registration" });
      expect(e.code).toBe("timeout");
      expect(e.message).toMatch(/^Microsoft Graph did not answer within 0\.2 s, so the portal could not read the app registration\./);
      expect(classifyAzureError(graph)).toBe("transient");
    }
    // A plain network failure stays what it was.
    expect(toAzureError(Object.assign(new Error("fetch failed"), { code: "ECONNRESET" }), ctx).code).toBe("unavailable");
  });

  it("gives up on a Workbench that doesn't answer within the limit, as a transient timeout", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(
        (_url: string, init: RequestInit) =>
          new Promise<Response>((_, reject) => init.signal?.addEventListener("abort", () => reject(init.signal?.reason as Error))),
      ),
    );
    const started = Date.now();
    const error = await workbenchRequest({ url: "https://workbench.example", apiKey: "k" }, "GET", "", null, "list the devices").catch(
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(WorkbenchError);
    expect(error).toMatchObject({
      code: "timeout",
      message:
        "Could not list the devices: Workbench did not answer within 0.2 s. Retry in a moment; if it keeps happening, the vendor must check Workbench.",
    });
    expect(classifyAzureError(error)).toBe("transient");
  });
});
