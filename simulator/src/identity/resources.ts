// Which API a scope or audience names: Azure Resource Manager, Microsoft Graph or the Log Analytics API.
import { WELL_KNOWN_APPS } from "../contract";

export type ResourceKind = "arm" | "graph" | "loganalytics" | "storage";

interface ResourceInfo {
  /** `aud` claim of tokens the simulator issues for this resource. */
  audience: string;
  /** The resource's first-party appId. */
  appId: string;
  /** Identifier URIs a scope may start with, and audiences a token may carry (compared without trailing slash). */
  identifiers: string[];
  /** Prefix used in the token response's `scope`. */
  scopePrefix: string;
}

export const RESOURCES: Record<ResourceKind, ResourceInfo> = {
  arm: {
    audience: "https://management.azure.com/",
    appId: WELL_KNOWN_APPS.azureServiceManagement,
    // ARM accepts tokens for both its current and its classic identifier URI.
    identifiers: ["https://management.azure.com", "https://management.core.windows.net", WELL_KNOWN_APPS.azureServiceManagement],
    scopePrefix: "https://management.azure.com/",
  },
  graph: {
    audience: "https://graph.microsoft.com",
    appId: WELL_KNOWN_APPS.microsoftGraph,
    identifiers: ["https://graph.microsoft.com", WELL_KNOWN_APPS.microsoftGraph],
    scopePrefix: "https://graph.microsoft.com/",
  },
  loganalytics: {
    audience: "https://api.loganalytics.io",
    appId: WELL_KNOWN_APPS.logAnalyticsApi,
    identifiers: ["https://api.loganalytics.io", WELL_KNOWN_APPS.logAnalyticsApi],
    scopePrefix: "https://api.loganalytics.io/",
  },
  // Blob data plane (Azure Storage's first-party app); Azurite itself doesn't enforce RBAC, the blob front does.
  storage: {
    audience: "https://storage.azure.com",
    appId: "e406a681-f3d4-42a8-90b6-c2b029497af1",
    identifiers: ["https://storage.azure.com", "e406a681-f3d4-42a8-90b6-c2b029497af1"],
    scopePrefix: "https://storage.azure.com/",
  },
};

export const OIDC_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);

const strip = (s: string) => s.replace(/\/+$/, "").toLowerCase();

/** The resource an identifier URI / appId / audience names, if any. */
export function resourceOf(identifier: string): ResourceKind | undefined {
  const id = strip(identifier);
  for (const [kind, info] of Object.entries(RESOURCES) as [ResourceKind, ResourceInfo][]) {
    if (info.identifiers.some((i) => strip(i) === id)) return kind;
  }
  return undefined;
}

export type ParsedScope =
  { kind: "oidc"; name: string } | { kind: "resource"; resource: ResourceKind; name: string } | { kind: "unknown"; raw: string };

/** Parse one scope string. A bare name ("User.Read") means Microsoft Graph, as in Entra. */
export function parseScope(raw: string): ParsedScope {
  if (OIDC_SCOPES.has(raw)) return { kind: "oidc", name: raw };
  const slash = raw.lastIndexOf("/");
  if (slash < 0) return { kind: "resource", resource: "graph", name: raw };
  // "https://management.core.windows.net//.default" has an empty segment: strip() removes it.
  const resource = resourceOf(raw.slice(0, slash));
  const name = raw.slice(slash + 1);
  if (!resource || !name) return { kind: "unknown", raw };
  return { kind: "resource", resource, name };
}

/** Full scope string as Entra writes it in the token response ("https://graph.microsoft.com/User.Read"). */
export function fullScope(resource: ResourceKind, name: string): string {
  return `${RESOURCES[resource].scopePrefix}${name}`;
}
