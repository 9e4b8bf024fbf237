// "Your Azure estate": subscriptions, their AKS clusters by region, and whether the admin can grant roles there.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { delegatedCredential, getAccessToken } from "@/lib/auth/tokens";
import { AzureOperationError } from "@/lib/azure/errors";
import { getRoleDefinition } from "@/lib/azure/get-role-definition";
import { listManagedClusters, type ManagedCluster } from "@/lib/azure/list-managed-clusters";
import { listRoleAssignmentsForPrincipal } from "@/lib/azure/list-role-assignments-for-principal";
import { listSubscriptions, type Subscription } from "@/lib/azure/list-subscriptions";
import { allowsAction, scopeCovers } from "@/lib/azure/permissions";
import { BUILTIN_ROLE_IDS, roleGuid } from "@/lib/azure/role-ids";
import type { SessionWithUser } from "@/lib/db/sessions";
import { mapBounded } from "@/lib/concurrency";

const ROLE_WRITE = "Microsoft.Authorization/roleAssignments/write";

/** Built-in roles that carry roleAssignments/write, by id. */
const GRANTING_ROLES: Record<string, string> = {
  [BUILTIN_ROLE_IDS.owner]: "Owner",
  [BUILTIN_ROLE_IDS.userAccessAdministrator]: "User Access Administrator",
  [BUILTIN_ROLE_IDS.rbacAdministrator]: "Role Based Access Control Administrator",
};

export type RoleAssignmentRights = { status: "allowed"; via: string[] } | { status: "denied" } | { status: "unknown"; message: string };

export interface EstateSubscription extends Subscription {
  regions: { location: string; clusters: ManagedCluster[] }[];
  clusterCount: number;
  clustersError?: string;
  roleAssignments: RoleAssignmentRights;
}

export type EstateResult = { ok: true; subscriptions: EstateSubscription[] } | { ok: false; code: string; message: string };

/** Load the estate with the admin's own ARM token; per-subscription failures stay per subscription. */
export async function loadEstate(session: SessionWithUser): Promise<EstateResult> {
  const token = await getAccessToken(session, "arm");
  if (!token.ok) return { ok: false, code: token.code, message: token.message };
  const credential = delegatedCredential(async () => token);
  try {
    const subscriptions = await listSubscriptions(credential);
    const detailed = await mapBounded(subscriptions, 6, (s) => describeSubscription(credential, s, session.user.objectId));
    return { ok: true, subscriptions: detailed };
  } catch (error) {
    if (error instanceof AzureOperationError) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}

async function describeSubscription(credential: TokenCredential, s: Subscription, objectId: string): Promise<EstateSubscription> {
  const [clusters, rights] = await Promise.allSettled([
    listManagedClusters(credential, s.id),
    roleAssignmentRights(credential, s.id, objectId),
  ]);
  const list = clusters.status === "fulfilled" ? clusters.value : [];
  return {
    ...s,
    regions: groupByRegion(list),
    clusterCount: list.length,
    clustersError: clusters.status === "rejected" ? messageOf(clusters.reason) : undefined,
    roleAssignments: rights.status === "fulfilled" ? rights.value : { status: "unknown", message: messageOf(rights.reason) },
  };
}

/** Whether `objectId` can create role assignments at the subscription scope. */
export async function roleAssignmentRights(
  credential: TokenCredential,
  subscriptionId: string,
  objectId: string,
): Promise<RoleAssignmentRights> {
  const scope = `/subscriptions/${subscriptionId}`;
  const assignments = (await listRoleAssignmentsForPrincipal(credential, subscriptionId, objectId)).filter((a) =>
    scopeCovers(a.scope, scope),
  );
  const via = new Set<string>();
  const custom: string[] = [];
  for (const a of assignments) {
    const builtin = GRANTING_ROLES[roleGuid(a.roleDefinitionId)];
    if (builtin) via.add(builtin);
    else custom.push(a.roleDefinitionId);
  }
  // Custom roles may carry roleAssignments/write too: read their definitions.
  for (const id of new Set(custom)) {
    const definition = await getRoleDefinition(credential, subscriptionId, id);
    if (allowsAction(definition, ROLE_WRITE)) via.add(definition.roleName);
  }
  return via.size > 0 ? { status: "allowed", via: [...via].sort() } : { status: "denied" };
}

function groupByRegion(clusters: ManagedCluster[]): EstateSubscription["regions"] {
  const byRegion = new Map<string, ManagedCluster[]>();
  for (const c of clusters) byRegion.set(c.location, [...(byRegion.get(c.location) ?? []), c]);
  return [...byRegion.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([location, cs]) => ({ location, clusters: cs }));
}

function messageOf(reason: unknown): string {
  return reason instanceof AzureOperationError ? reason.message : "This part of the subscription could not be read. Retry.";
}
