// The outbound request log: bounded operation names, one line per write with Azure's request ids, every try counted.
import { randomBytes } from "node:crypto";
import { createHttpHeaders, createPipelineRequest, type PipelineRequest, type PipelineResponse } from "@azure/core-rest-pipeline";
import type { Context, Middleware } from "@microsoft/microsoft-graph-client";
import { afterEach, describe, expect, it, vi } from "vitest";
import { captureLog } from "@/test/support/log-capture";
import { withLogContext } from "@/lib/log";
import { metrics } from "@/lib/metrics";
import { GraphRequestLogHandler, isWrite, operationOf, requestLogPolicy } from "./request-log-policy";
import { RequestTimeoutError } from "./timeouts";

vi.stubEnv("ENCRYPTION_KEY", randomBytes(32).toString("base64"));
vi.stubEnv("ENTRA_CLIENT_ID", "00000000-0000-4000-8000-000000000001");
vi.stubEnv("ENTRA_CLIENT_SECRET", "test-secret");

vi.stubEnv("LOG_LEVEL", "info");
const SUB = "/subscriptions/22222222-2222-4222-8222-222222222222";
let capture: ReturnType<typeof captureLog> | undefined;
afterEach(() => capture?.stop());

async function count(service: string, operation: string, status: string): Promise<number> {
  const metric = await metrics().azureRequests.get();
  return (
    metric.values.find((v) => v.labels.service === service && v.labels.operation === operation && v.labels.status === status)?.value ?? 0
  );
}

describe("operationOf", () => {
  it.each([
    [
      "arm",
      "PUT",
      `${SUB}/resourceGroups/rg-audit/providers/Microsoft.Storage/storageAccounts/stx01?api-version=2023-05-01`,
      "PUT Microsoft.Storage/storageAccounts",
    ],
    [
      "arm",
      "PUT",
      `${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stx01/managementPolicies/default`,
      "PUT Microsoft.Storage/storageAccounts/managementPolicies",
    ],
    ["arm", "POST", `${SUB}/providers/Microsoft.Storage/checkNameAvailability`, "POST Microsoft.Storage/checkNameAvailability"],
    ["arm", "POST", `${SUB}/providers/Microsoft.ContainerService/register`, "POST Microsoft.ContainerService/register"],
    [
      "arm",
      "PUT",
      `${SUB}/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1/providers/Microsoft.Insights/diagnosticSettings/vendor`,
      "PUT Microsoft.Insights/diagnosticSettings",
    ],
    ["arm", "PUT", `https://management.example${SUB}/resourcegroups/rg-audit`, "PUT subscriptions/resourcegroups"],
    ["arm", "GET", "/subscriptions", "GET subscriptions"],
    [
      "graph",
      "POST",
      "https://graph.example/v1.0/applications/5f0e4c52-7b4a-4f0e-9a53-3c2b1f1e0a11/addPassword",
      "POST applications/{id}/addPassword",
    ],
    ["graph", "PATCH", "/v1.0/applications(uniqueName='vendor-aks-audit')", "PATCH applications(uniqueName)"],
    [
      "graph",
      "GET",
      "/v1.0/servicePrincipals(appId='5f0e4c52-7b4a-4f0e-9a53-3c2b1f1e0a11')/appRoleAssignedTo",
      "GET servicePrincipals(appId)/appRoleAssignedTo",
    ],
    [
      "workbench",
      "PATCH",
      "https://vendor.example/workbench/api/v1/security-devices/a1b2c3/credential",
      "PATCH security-devices/{id}/credential",
    ],
    ["log_analytics", "POST", "https://api.example/v1/workspaces/0b9f3e0c-1c1d-4e8b-9d5e-0f0e0d0c0b0a/query", "POST workspaces/{id}/query"],
  ] as const)("%s %s %s → %s", (service, method, url, expected) => {
    expect(operationOf(service, method, url)).toBe(expected);
  });

  it("counts PUT, PATCH, DELETE and POST actions as writes; GET and read-only POST actions are not", () => {
    expect(["PUT", "PATCH", "DELETE"].map((m) => isWrite(m, `${m} x/y`))).toEqual([true, true, true]);
    expect(isWrite("POST", "POST applications/{id}/addPassword")).toBe(true);
    expect(isWrite("POST", "POST Microsoft.Storage/checkNameAvailability")).toBe(false);
    expect(isWrite("POST", "POST Microsoft.Storage/storageAccounts/listKeys")).toBe(false);
    expect(isWrite("POST", "POST workspaces/{id}/query")).toBe(false);
    expect(isWrite("GET", "GET subscriptions")).toBe(false);
  });
});

const armAnswer =
  (status: number, headers: Record<string, string>) =>
  (request: PipelineRequest): Promise<PipelineResponse> =>
    Promise.resolve({ request, status, headers: createHttpHeaders(headers) });

describe("requestLogPolicy", () => {
  it("logs a write with its target (no query), status, duration, request ids and the job's correlation fields, and counts it", async () => {
    capture = captureLog();
    const url = `https://management.example${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1?api-version=2023-05-01&sig=abc`;
    const request = createPipelineRequest({ url, method: "PUT" });
    const before = await count("arm", "PUT Microsoft.Storage/storageAccounts", "201");
    await withLogContext({ runId: "run1", stepId: "storage", tenantId: "t1" }, () =>
      requestLogPolicy().sendRequest(request, armAnswer(201, { "x-ms-request-id": "srv-1", "x-ms-correlation-request-id": "cor-1" })),
    );
    expect(capture.lines).toEqual([
      expect.objectContaining({
        level: "info",
        event: "azure.write",
        service: "arm",
        operation: "PUT Microsoft.Storage/storageAccounts",
        target: `${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1`,
        status: "201",
        durationMs: expect.any(Number) as number,
        requestId: "srv-1",
        clientRequestId: request.requestId,
        correlationId: "cor-1",
        runId: "run1",
        stepId: "storage",
        tenantId: "t1",
      }),
    ]);
    expect(capture.text()).not.toContain("sig=abc");
    expect(await count("arm", "PUT Microsoft.Storage/storageAccounts", "201")).toBe(before + 1);
  });

  it("counts a read without a line at info, logs a failed write as warn, and a try with no answer as its failure", async () => {
    capture = captureLog();
    const read = createPipelineRequest({ url: `https://management.example${SUB}/resourcegroups/rg`, method: "GET" });
    const before = await count("arm", "GET subscriptions/resourcegroups", "404");
    await requestLogPolicy().sendRequest(read, armAnswer(404, { "x-ms-request-id": "srv-2" }));
    expect(await count("arm", "GET subscriptions/resourcegroups", "404")).toBe(before + 1);
    expect(capture.lines).toEqual([]);

    const denied = createPipelineRequest({ url: `https://management.example${SUB}/resourcegroups/rg`, method: "PUT" });
    await requestLogPolicy().sendRequest(denied, armAnswer(403, { "x-ms-request-id": "srv-3" }));
    const timedOut = createPipelineRequest({ url: `https://management.example${SUB}/resourcegroups/rg`, method: "DELETE" });
    const error = await requestLogPolicy()
      .sendRequest(timedOut, () => Promise.reject(new RequestTimeoutError("Azure", 200)))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(capture.lines.map((l) => [l.level, l.operation, l.status, l.requestId])).toEqual([
      ["warn", "PUT subscriptions/resourcegroups", "403", "srv-3"],
      ["warn", "DELETE subscriptions/resourcegroups", "timeout", undefined],
    ]);
    expect(capture.lines[1]?.error).toBe("RequestTimeoutError: Azure did not answer within 0.2 s");
  });
});

describe("GraphRequestLogHandler", () => {
  it("logs every try of a write with Graph's request-id and client-request-id", async () => {
    capture = captureLog();
    const handler = new GraphRequestLogHandler();
    const http: Middleware = {
      execute(context: Context) {
        context.response = new Response("{}", { status: 200, headers: { "request-id": "g-1", "client-request-id": "c-1" } });
        return Promise.resolve();
      },
      setNext() {},
    };
    handler.setNext(http);
    await handler.execute({
      request: "https://graph.example/v1.0/applications/5f0e4c52-7b4a-4f0e-9a53-3c2b1f1e0a11/addPassword",
      options: { method: "POST", headers: { "client-request-id": "c-1", Authorization: "Bearer secret-token-value" } },
    });
    expect(capture.lines).toEqual([
      expect.objectContaining({
        event: "azure.write",
        service: "graph",
        operation: "POST applications/{id}/addPassword",
        status: "200",
        requestId: "g-1",
        clientRequestId: "c-1",
      }),
    ]);
    expect(capture.text()).not.toContain("secret-token-value");
  });
});
