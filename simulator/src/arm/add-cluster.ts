// Control-API helper: an AKS cluster appears in a subscription (as if someone created it in the Azure portal).
import { z } from "zod";
import type { SimState } from "../state";
import { LOCATION_NAMES, normalizeLocation } from "./http";
import { clusterResource } from "./managed-clusters";
import { getResourceGroup, getSubscription, RESOURCE_GROUP_TYPE } from "./world";

/** Body of POST /_sim/clusters. */
export const addClusterSchema = z.object({
  subscriptionId: z.string().uuid(),
  resourceGroup: z
    .string()
    .min(1)
    .max(90)
    .regex(/^[-\w._()]+$/),
  name: z
    .string()
    .min(1)
    .max(63)
    .regex(/^[a-zA-Z0-9][-_a-zA-Z0-9]*$/),
  location: z
    .string()
    .min(1)
    .refine((l) => normalizeLocation(l) in LOCATION_NAMES, "is not an Azure region the simulator knows"),
  azureRbac: z.boolean().default(true),
  kubernetesVersion: z.string().default("1.33.2"),
  /** Create the resource group (in `location`) when it doesn't exist; otherwise a missing group is a 404. */
  createResourceGroup: z.boolean().default(false),
});
export type AddClusterInput = z.infer<typeof addClusterSchema>;

export type AddClusterResult =
  { ok: true; created: boolean; cluster: Record<string, unknown> } | { ok: false; status: number; code: string; message: string };

/** Adds the cluster; the same subscription, group and name again is a no-op (created: false). */
export function addCluster(state: SimState, input: AddClusterInput): AddClusterResult {
  if (!getSubscription(state, input.subscriptionId)) {
    return {
      ok: false,
      status: 404,
      code: "SubscriptionNotFound",
      message: `The subscription '${input.subscriptionId}' could not be found.`,
    };
  }
  let group = getResourceGroup(state, input.subscriptionId, input.resourceGroup);
  if (!group) {
    if (!input.createResourceGroup) {
      return {
        ok: false,
        status: 404,
        code: "ResourceGroupNotFound",
        message: `Resource group '${input.resourceGroup}' could not be found. Send createResourceGroup: true to create it.`,
      };
    }
    group = {
      id: `/subscriptions/${input.subscriptionId}/resourceGroups/${input.resourceGroup}`,
      name: input.resourceGroup,
      type: RESOURCE_GROUP_TYPE,
      location: normalizeLocation(input.location),
      properties: { provisioningState: "Succeeded" },
    };
    state.putArm(group);
  }
  const cluster = clusterResource(input.subscriptionId, state.scenario.tenant.id, {
    name: input.name,
    resourceGroup: group.name,
    location: input.location,
    azureRbac: input.azureRbac,
    entraIntegration: true,
    kubernetesVersion: input.kubernetesVersion,
    diagnosticSettings: [],
  });
  const existing = state.getArm(cluster.id);
  if (existing) return { ok: true, created: false, cluster: existing };
  state.putArm(cluster);
  return { ok: true, created: true, cluster };
}
