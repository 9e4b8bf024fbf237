// Resource providers: get, list, register (Registering → Registered after a delay, like ARM).
import type { ArmResource, SimResponse } from "../contract";
import type { ArmContext } from "./context";
import { API_VERSIONS, armError, checkApiVersion, list, LOCATION_NAMES, methodNotAllowed, ok, subscriptionNotFound } from "./http";
import { authorize, canSeeSubscription } from "./rbac";
import { getSubscription, PROVIDER_TYPE, resourcesOfType, settle, startLro } from "./world";

/** Namespaces the simulator knows, with the resource types their GET lists. */
export const KNOWN_PROVIDERS: Record<string, { types: string[]; apiVersions: readonly string[]; registrationFree?: boolean }> = {
  "Microsoft.Storage": {
    types: ["storageAccounts", "checkNameAvailability", "locations", "operations"],
    apiVersions: API_VERSIONS.storage,
  },
  "Microsoft.Insights": {
    types: ["diagnosticSettings", "diagnosticSettingsCategories", "operations"],
    apiVersions: API_VERSIONS.diagnosticSettings,
  },
  "Microsoft.ContainerService": { types: ["managedClusters", "locations", "operations"], apiVersions: API_VERSIONS.containerService },
  "Microsoft.OperationalInsights": { types: ["workspaces", "operations"], apiVersions: ["2022-10-01", "2023-09-01", "2025-02-01"] },
  "Microsoft.ManagedIdentity": { types: ["userAssignedIdentities", "operations"], apiVersions: ["2023-01-31", "2024-11-30"] },
  "Microsoft.Network": { types: ["virtualNetworks", "publicIPAddresses", "operations"], apiVersions: ["2024-05-01", "2024-07-01"] },
  "Microsoft.Compute": { types: ["virtualMachines", "virtualMachineScaleSets", "operations"], apiVersions: ["2024-07-01", "2024-11-01"] },
  "Microsoft.Authorization": {
    types: ["roleAssignments", "roleDefinitions", "permissions", "operations"],
    apiVersions: API_VERSIONS.authorization,
    registrationFree: true,
  },
  "Microsoft.Resources": {
    types: ["subscriptions", "resourceGroups", "deployments", "operations"],
    apiVersions: API_VERSIONS.resources,
    registrationFree: true,
  },
};

export function canonicalNamespace(ns: string): string | undefined {
  return Object.keys(KNOWN_PROVIDERS).find((k) => k.toLowerCase() === ns.toLowerCase());
}

export function providerResource(sub: string, ns: string, registered: boolean): ArmResource {
  return {
    id: `/subscriptions/${sub}/providers/${ns}`,
    name: ns,
    type: PROVIDER_TYPE,
    properties: { registrationState: KNOWN_PROVIDERS[ns]?.registrationFree || registered ? "Registered" : "NotRegistered" },
  };
}

function providerBody(r: ArmResource): Record<string, unknown> {
  const info = KNOWN_PROVIDERS[r.name];
  return {
    id: r.id,
    namespace: r.name,
    registrationState: r.properties.registrationState,
    registrationPolicy: info?.registrationFree ? "RegistrationFree" : "RegistrationRequired",
    resourceTypes: (info?.types ?? []).map((t) => ({
      resourceType: t,
      locations: t === "operations" || t === "checkNameAvailability" ? [] : Object.values(LOCATION_NAMES),
      apiVersions: [...(info?.apiVersions ?? [])].reverse(),
      capabilities: "None",
    })),
  };
}

/** /subscriptions/{sub}/providers[/{ns}[/register|/unregister]] */
export function handleProviders(ctx: ArmContext, sub: string): SimResponse {
  const bad = checkApiVersion(ctx.req, API_VERSIONS.resources);
  if (bad) return bad;
  const { state, caller, req } = ctx;
  if (!getSubscription(state, sub) || !canSeeSubscription(state, caller, sub)) return subscriptionNotFound(sub);
  settle(state);
  const nsArg = ctx.seg[3];
  const verb = ctx.low[4];
  if (nsArg === undefined) {
    if (req.method !== "GET") return methodNotAllowed(req.method);
    return list(resourcesOfType(state, PROVIDER_TYPE, `/subscriptions/${sub}`).map(providerBody));
  }
  const ns = canonicalNamespace(nsArg);
  if (!ns) return armError(404, "InvalidResourceNamespace", `The resource namespace '${nsArg}' is invalid.`);
  const id = `/subscriptions/${sub}/providers/${ns}`;
  let r = state.getArm(id);
  if (!r) {
    r = providerResource(sub, ns, false);
    state.putArm(r);
  }
  if (verb === undefined) {
    if (req.method !== "GET") return methodNotAllowed(req.method);
    return ok(providerBody(r));
  }
  if (req.method !== "POST" || (verb !== "register" && verb !== "unregister")) return methodNotAllowed(req.method);
  const action = `${ns}/${verb}/action`;
  const denied = authorize(state, caller, action, `/subscriptions/${sub}`);
  if (denied) return denied;
  if (verb === "register") {
    if (r.properties.registrationState !== "Registered") {
      r.properties.registrationState = "Registering";
      startLro(state, `register-${sub}-${ns}`.toLowerCase(), id, state.latency.lroMs.providerRegistration ?? 1000);
    }
  } else {
    r.properties.registrationState = KNOWN_PROVIDERS[ns]?.registrationFree ? "Registered" : "NotRegistered";
  }
  return ok(providerBody(r));
}
