// Shared ARM response helpers: Azure's error texts, api-version checks, ids.
import { createHash } from "node:crypto";
import type { z } from "zod";
import { azureError, type Caller, type SimRequest, type SimResponse } from "../contract";

/** ARM error envelope; the status code is what ARM sends for that code. */
export const armError = azureError;

export function ok(body: unknown, status = 200, headers?: Record<string, string>): SimResponse {
  return { status, body, headers };
}

export function list(value: unknown[]): SimResponse {
  return ok({ value });
}

export function resourceGroupNotFound(rg: string): SimResponse {
  return armError(404, "ResourceGroupNotFound", `Resource group '${rg}' could not be found.`);
}

export function subscriptionNotFound(sub: string): SimResponse {
  return armError(404, "SubscriptionNotFound", `The subscription '${sub}' could not be found.`);
}

/** ARM's text for a missing resource, e.g. type "Microsoft.Storage/storageAccounts". */
export function resourceNotFound(type: string, name: string, rg: string): SimResponse {
  return armError(
    404,
    "ResourceNotFound",
    `The Resource '${type}/${name}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}

export function invalidResourceType(type: string, ns: string, apiVersion: string): SimResponse {
  return armError(
    404,
    "InvalidResourceType",
    `The resource type '${type}' could not be found in the namespace '${ns}' for api version '${apiVersion}'.`,
  );
}

export function methodNotAllowed(method: string): SimResponse {
  return armError(405, "MethodNotAllowed", `The requested resource does not support http method '${method}'.`);
}

/** Parses a JSON body with zod; answers ARM's InvalidRequestContent on failure. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): { data: T } | { error: SimResponse } {
  const parsed = schema.safeParse(body ?? {});
  if (parsed.success) return { data: parsed.data };
  const issue = parsed.error.issues[0];
  const path = issue ? issue.path.join(".") : "";
  return {
    error: armError(
      400,
      "InvalidRequestContent",
      `The request content was invalid and could not be deserialized: '${issue?.message ?? "invalid"}${path ? ` at '${path}'` : ""}'.`,
    ),
  };
}

export function apiVersionOf(req: SimRequest): string {
  return req.query.get("api-version") ?? "";
}

/** ARM-native endpoints (subscriptions, resource groups, Microsoft.Authorization) answer this for an unknown version. */
export function checkApiVersion(req: SimRequest, supported: readonly string[]): SimResponse | undefined {
  const v = apiVersionOf(req);
  if (supported.includes(v)) return undefined;
  return armError(
    400,
    "InvalidApiVersionParameter",
    `The api-version '${v}' is invalid. The supported versions are '${supported.join(",")}'.`,
  );
}

/** Resource providers (Storage, ContainerService, Insights) answer NoRegisteredProviderFound instead. */
export function checkProviderApiVersion(
  req: SimRequest,
  supported: readonly string[],
  type: string,
  location = "global",
): SimResponse | undefined {
  const v = apiVersionOf(req);
  if (supported.some((s) => s.toLowerCase() === v.toLowerCase())) return undefined;
  return armError(
    400,
    "NoRegisteredProviderFound",
    `No registered resource provider found for location '${location}' and API version '${v}' for type '${type}'. The supported api-versions are '${supported.join(", ")}'. The supported locations are '${LOCATIONS.join(", ")}'.`,
  );
}

export const API_VERSIONS = {
  // 2019-11-01 is what az 2.45 sends (azure-cli-core profiles/_shared.py: MGMT_RESOURCE_SUBSCRIPTIONS), a stable version
  // of azure-rest-api-specs specification/resources/resource-manager/Microsoft.Resources/stable/2019-11-01/subscriptions.json.
  subscriptions: ["2016-06-01", "2019-06-01", "2019-11-01", "2020-01-01", "2021-01-01", "2022-12-01"],
  resources: ["2021-04-01", "2022-09-01", "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01", "2025-01-01", "2025-03-01", "2025-04-01"],
  containerService: [
    "2024-09-01",
    "2025-01-01",
    "2025-05-01",
    "2025-07-01",
    "2025-10-01",
    "2026-01-01",
    "2026-02-01",
    "2026-03-01",
    "2026-04-01",
    "2026-06-01",
  ],
  // 2022-09-01: az 2.45's MGMT_STORAGE (profiles/_shared.py); azure-rest-api-specs Microsoft.Storage/stable/2022-09-01/storage.json.
  storage: ["2022-09-01", "2023-01-01", "2023-04-01", "2023-05-01", "2024-01-01", "2025-01-01", "2025-06-01", "2025-08-01", "2026-09-01"],
  diagnosticSettings: ["2017-05-01-preview", "2021-05-01-preview"],
  authorization: ["2015-07-01", "2018-01-01-preview", "2020-04-01-preview", "2020-10-01-preview", "2022-04-01", "2022-05-01-preview"],
} as const;

/** Azure regions the simulator accepts: programmatic name → display name (provider resourceTypes list display names). */
export const LOCATION_NAMES: Record<string, string> = {
  eastus: "East US",
  eastus2: "East US 2",
  westus: "West US",
  westus2: "West US 2",
  westus3: "West US 3",
  centralus: "Central US",
  northcentralus: "North Central US",
  southcentralus: "South Central US",
  westcentralus: "West Central US",
  canadacentral: "Canada Central",
  canadaeast: "Canada East",
  brazilsouth: "Brazil South",
  northeurope: "North Europe",
  westeurope: "West Europe",
  uksouth: "UK South",
  ukwest: "UK West",
  francecentral: "France Central",
  germanywestcentral: "Germany West Central",
  switzerlandnorth: "Switzerland North",
  norwayeast: "Norway East",
  swedencentral: "Sweden Central",
  polandcentral: "Poland Central",
  italynorth: "Italy North",
  spaincentral: "Spain Central",
  australiaeast: "Australia East",
  australiasoutheast: "Australia Southeast",
  eastasia: "East Asia",
  southeastasia: "Southeast Asia",
  japaneast: "Japan East",
  japanwest: "Japan West",
  koreacentral: "Korea Central",
  centralindia: "Central India",
  southindia: "South India",
  uaenorth: "UAE North",
  southafricanorth: "South Africa North",
  israelcentral: "Israel Central",
  qatarcentral: "Qatar Central",
  mexicocentral: "Mexico Central",
};

export const LOCATIONS = Object.keys(LOCATION_NAMES);

/** Lower-cases and strips spaces, so "West Europe" and "westeurope" compare equal like ARM does. */
export function normalizeLocation(loc: string): string {
  return loc.replace(/\s+/g, "").toLowerCase();
}

/** Name-based UUID (v5 layout over SHA-1), used for deterministic seed names. */
export function nameUuid(...parts: string[]): string {
  const h = createHash("sha1").update(parts.join("|").toLowerCase()).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString("hex");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** How ARM names the caller in AuthorizationFailed: the UPN for users, the appId for apps. */
export function callerLabel(caller: Caller): string {
  return caller.kind === "user" ? (caller.upn ?? caller.objectId) : caller.appId;
}

export function isoNow(ms: number): string {
  return new Date(ms).toISOString();
}
