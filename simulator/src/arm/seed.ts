// Builds the ARM estate of a scenario: subscriptions, providers, groups, clusters, accounts, settings, role assignments.
import { BUILTIN_ROLES, type ArmResource } from "../contract";
import type { SimState } from "../state";
import { isoNow, nameUuid, normalizeLocation } from "./http";
import { clusterResource } from "./managed-clusters";
import { lockResource } from "./locks";
import { policyAssignmentResource } from "./policy";
import { KNOWN_PROVIDERS, providerResource } from "./providers";
import { ROLE_ASSIGNMENT_TYPE } from "./rbac";
import { storageAccountResource } from "./storage-accounts";
import { DIAGNOSTIC_SETTING_TYPE, getResourceGroup, RESOURCE_GROUP_TYPE, SUBSCRIPTION_TYPE } from "./world";
import { seedWorkspaces } from "./workspaces";

const SEED_TIME = Date.parse("2025-01-01T00:00:00Z");

/** Deterministic name of a seeded subscription-level assignment, so restarts keep the same ids. */
export function seededAssignmentName(subscriptionId: string, principalId: string, roleId: string): string {
  return nameUuid("/subscriptions/" + subscriptionId, principalId, roleId);
}

export function seedArm(state: SimState): void {
  const { scenario } = state;
  const tenantId = scenario.tenant.id;
  for (const sub of scenario.subscriptions) {
    state.putArm({
      id: `/subscriptions/${sub.id}`,
      name: sub.id,
      type: SUBSCRIPTION_TYPE,
      properties: { displayName: sub.displayName, tenantId, state: sub.state },
    });
    for (const ns of Object.keys(KNOWN_PROVIDERS)) {
      const registered = sub.registeredProviders.some((p) => p.toLowerCase() === ns.toLowerCase());
      state.putArm(providerResource(sub.id, ns, registered));
    }
    const ensureGroup = (name: string, location: string, tags?: Record<string, string>) => {
      if (getResourceGroup(state, sub.id, name)) return;
      state.putArm({
        id: `/subscriptions/${sub.id}/resourceGroups/${name}`,
        name,
        type: RESOURCE_GROUP_TYPE,
        location: normalizeLocation(location),
        ...(tags ? { tags } : {}),
        properties: { provisioningState: "Succeeded" },
      });
    };
    for (const rg of sub.resourceGroups) ensureGroup(rg.name, rg.location, rg.tags);
    for (const acct of sub.storageAccounts) {
      ensureGroup(acct.resourceGroup, acct.location);
      const rg = getResourceGroup(state, sub.id, acct.resourceGroup)?.name ?? acct.resourceGroup;
      const r = storageAccountResource(
        state,
        sub.id,
        rg,
        acct.name,
        {
          location: normalizeLocation(acct.location),
          kind: "StorageV2",
          skuName: "Standard_LRS",
          tags: acct.tags,
          properties: { networkAcls: { defaultAction: acct.networkDefaultAction } },
        },
        "Succeeded",
      );
      const t = isoNow(SEED_TIME);
      Object.assign(r.properties, { creationTime: t, keyCreationTime: { key1: t, key2: t } });
      state.putArm(r);
    }
    for (const w of sub.logAnalyticsWorkspaces) ensureGroup(w.resourceGroup, w.location);
    seedWorkspaces(state, sub);
    for (const c of sub.clusters) {
      ensureGroup(c.resourceGroup, c.location);
      const rg = getResourceGroup(state, sub.id, c.resourceGroup)?.name ?? c.resourceGroup;
      const cluster = clusterResource(sub.id, tenantId, { ...c, resourceGroup: rg });
      state.putArm(cluster);
      for (const d of c.diagnosticSettings) {
        const setting: ArmResource = {
          id: `${cluster.id}/providers/Microsoft.Insights/diagnosticSettings/${d.name}`,
          name: d.name,
          type: DIAGNOSTIC_SETTING_TYPE,
          properties: {
            ...(d.storageAccountId ? { storageAccountId: d.storageAccountId } : {}),
            ...(d.workspaceId ? { workspaceId: d.workspaceId } : {}),
            metrics: [],
            logs: d.logs.map((l) => ({ ...l, retentionPolicy: { enabled: false, days: 0 } })),
          },
        };
        state.putArm(setting);
      }
    }
  }
  for (const a of scenario.policyAssignments) state.putArm(policyAssignmentResource(a, tenantId));
  for (const l of scenario.locks) state.putArm(lockResource(l));
  const principals = [
    ...scenario.users.map((u) => ({ ...u, label: u.upn, principalType: "User" })),
    ...scenario.servicePrincipals.map((s) => ({ ...s, label: s.displayName, principalType: "ServicePrincipal" })),
  ];
  for (const user of principals) {
    for (const [subId, roles] of Object.entries(user.subscriptionRoles)) {
      for (const roleName of roles) {
        const role = BUILTIN_ROLES[roleName as keyof typeof BUILTIN_ROLES] as { id: string } | undefined;
        if (!role) {
          console.warn(`[simulator] scenario: unknown built-in role '${roleName}' for ${user.label}; skipped`);
          continue;
        }
        const scope = `/subscriptions/${subId}`;
        const name = seededAssignmentName(subId, user.objectId, role.id);
        state.putArm({
          id: `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}`,
          name,
          type: ROLE_ASSIGNMENT_TYPE,
          properties: {
            roleDefinitionId: `${scope}/providers/Microsoft.Authorization/roleDefinitions/${role.id}`,
            principalId: user.objectId,
            principalType: user.principalType,
            scope,
            condition: null,
            conditionVersion: null,
            createdOn: isoNow(SEED_TIME),
            updatedOn: isoNow(SEED_TIME),
            createdBy: null,
            updatedBy: null,
            delegatedManagedIdentityResourceId: null,
            description: null,
          },
        });
      }
    }
  }
}
