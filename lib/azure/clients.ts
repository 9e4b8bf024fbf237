// Every Azure SDK client the portal makes, one function per kind: ARM clients point at the configured ARM endpoint with
// the kept-alive agent and the per-request time limit; Storage and Log Analytics clients at their data-plane endpoints.
import "server-only";
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { ContainerServiceClient } from "@azure/arm-containerservice";
import { MonitorClient } from "@azure/arm-monitor";
import { ResourceManagementClient } from "@azure/arm-resources";
import { SubscriptionClient } from "@azure/arm-resources-subscriptions";
import { StorageManagementClient } from "@azure/arm-storage";
import type { TokenCredential } from "@azure/core-auth";
import { LogsQueryClient } from "@azure/monitor-query-logs";
import { BlobServiceClient } from "@azure/storage-blob";
import { env } from "@/lib/env";
import { armHttpsAgent } from "./http-agent";
import { armInFlightPolicies } from "./in-flight";
import { requestLogPolicies } from "./request-log-policy";
import { timeoutPolicies } from "./timeouts";

function armScope(): string {
  return `${env().ARM_AUDIENCE}/.default`;
}

/** What every ARM client shares: the configured endpoint, the kept-alive agent, the in-flight bound, the per-request time limit and the request log. */
function armClientOptions() {
  // The in-flight bound goes first (a queued try is not yet sent: neither logged nor timed); then the log, which sees
  // the time limit's RequestTimeoutError, not a bare abort.
  return {
    endpoint: env().ARM_ENDPOINT,
    agent: armHttpsAgent(),
    additionalPolicies: [...armInFlightPolicies(), ...requestLogPolicies(), ...timeoutPolicies()],
  };
}

// Two SDK generations: modular clients take scopes under `credentials`, the others as `credentialScopes`. Without them a
// client asks for a token for `<endpoint>/.default`.
function modularOptions() {
  return { ...armClientOptions(), credentials: { scopes: [armScope()] } };
}

function classicOptions() {
  return { ...armClientOptions(), credentialScopes: [armScope()] };
}

// A client is made once per credential and subscription: building one (its pipeline and serializers) costs about as
// much CPU as the request it sends, and a step sends hundreds with one credential.
const made = new WeakMap<TokenCredential, Map<string, unknown>>();

function once<C>(credential: TokenCredential, key: string, make: () => C): C {
  let clients = made.get(credential);
  if (!clients) made.set(credential, (clients = new Map()));
  const known = clients.get(key) as C | undefined;
  if (known) return known;
  const client = make();
  clients.set(key, client);
  return client;
}

/** Subscriptions the caller can see. */
export function subscriptionClient(credential: TokenCredential): SubscriptionClient {
  return once(credential, "subscriptions", () => new SubscriptionClient(credential, classicOptions()));
}

/** AKS in one subscription. */
export function containerServiceClient(credential: TokenCredential, subscriptionId: string): ContainerServiceClient {
  return once(credential, `aks/${subscriptionId}`, () => new ContainerServiceClient(credential, subscriptionId, modularOptions()));
}

/** Role assignments and definitions in one subscription. */
export function authorizationClient(credential: TokenCredential, subscriptionId: string): AuthorizationManagementClient {
  return once(
    credential,
    `authorization/${subscriptionId}`,
    () => new AuthorizationManagementClient(credential, subscriptionId, classicOptions()),
  );
}

/** Storage accounts and lifecycle policies in one subscription. */
export function storageClient(credential: TokenCredential, subscriptionId: string): StorageManagementClient {
  return once(credential, `storage/${subscriptionId}`, () => new StorageManagementClient(credential, subscriptionId, modularOptions()));
}

/** Diagnostic settings (arm-monitor 7: api-version 2017-05-01-preview, no category groups). */
export function monitorClient(credential: TokenCredential, subscriptionId: string): MonitorClient {
  return once(credential, `monitor/${subscriptionId}`, () => new MonitorClient(credential, subscriptionId, classicOptions()));
}

/** Resource groups and resource provider registration in one subscription. */
export function resourcesClient(credential: TokenCredential, subscriptionId: string): ResourceManagementClient {
  return once(credential, `resources/${subscriptionId}`, () => new ResourceManagementClient(credential, subscriptionId, classicOptions()));
}

/** One storage account's Blob service (its `primaryEndpoints.blob`); callers bound each request with their own deadline. */
export function blobServiceClient(blobEndpoint: string, credential: TokenCredential): BlobServiceClient {
  return new BlobServiceClient(blobEndpoint, credential);
}

/** Log Analytics queries at the configured endpoint, with a token for its audience and the per-request time limit. */
export function logsQueryClient(credential: TokenCredential): LogsQueryClient {
  const { LOG_ANALYTICS_ENDPOINT, LOG_ANALYTICS_AUDIENCE } = env();
  const audience = (LOG_ANALYTICS_AUDIENCE ?? LOG_ANALYTICS_ENDPOINT).replace(/\/+$/, "");
  // monitor-query-logs 1.0.0 ignores its `audience` option and appends no /v1 to a custom endpoint: set both here.
  return new LogsQueryClient(credential, {
    endpoint: `${LOG_ANALYTICS_ENDPOINT.replace(/\/+$/, "")}/v1`,
    credentials: { scopes: [`${audience}/.default`] },
    additionalPolicies: [...requestLogPolicies("log_analytics"), ...timeoutPolicies("Log Analytics")],
  });
}

/** The subscription id inside an ARM id or scope ("/subscriptions/{id}/…"). */
export function subscriptionOf(resourceId: string): string {
  const match = /^\/subscriptions\/([^/]+)/i.exec(resourceId);
  if (!match?.[1]) throw new Error(`Not a subscription-level Azure id: ${resourceId}`);
  return match[1];
}

/** arm-monitor and arm-authorization path templates are "/{resourceUri}…" and "/{scope}…": a leading slash would send "//subscriptions". */
export function sdkScope(resourceIdOrScope: string): string {
  return resourceIdOrScope.replace(/^\/+/, "");
}
