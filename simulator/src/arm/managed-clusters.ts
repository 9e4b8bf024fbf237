// AKS managed clusters: list (subscription), listByResourceGroup, get. Read-only in the simulator.
import { createHash } from "node:crypto";
import type { ArmResource, SimResponse } from "../contract";
import type { Scenario } from "../contract";
import type { ArmContext } from "./context";
import { paged } from "./paging";
import { API_VERSIONS, checkProviderApiVersion, methodNotAllowed, nameUuid, ok, resourceGroupNotFound, resourceNotFound } from "./http";
import { authorize, isAllowed } from "./rbac";
import { CLUSTER_TYPE, getResourceGroup, resourcesOfType } from "./world";

type ScenarioCluster = Scenario["subscriptions"][number]["clusters"][number];

/** A managedClusters GET body as AKS returns it. */
export function clusterResource(sub: string, tenantId: string, c: ScenarioCluster): ArmResource {
  const id = `/subscriptions/${sub}/resourceGroups/${c.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${c.name}`;
  const dnsPrefix = `${c.name}-${c.resourceGroup}-${sub.slice(0, 6)}`.slice(0, 54);
  const hash = createHash("sha1").update(id.toLowerCase()).digest("hex").slice(0, 8);
  const location = c.location.replace(/\s+/g, "").toLowerCase();
  const fqdn = `${dnsPrefix}-${hash}.hcp.${location}.azmk8s.io`;
  return {
    id,
    location,
    name: c.name,
    type: CLUSTER_TYPE,
    sku: { name: "Base", tier: "Free" },
    kind: "Base",
    identity: { type: "SystemAssigned", principalId: nameUuid("aks-identity", id), tenantId },
    properties: {
      provisioningState: "Succeeded",
      powerState: { code: "Running" },
      kubernetesVersion: c.kubernetesVersion,
      currentKubernetesVersion: c.kubernetesVersion,
      dnsPrefix,
      fqdn,
      azurePortalFQDN: `${dnsPrefix}-${hash}.portal.hcp.${location}.azmk8s.io`,
      agentPoolProfiles: [
        {
          name: "nodepool1",
          count: 3,
          vmSize: "Standard_D4ds_v5",
          osDiskSizeGB: 128,
          osDiskType: "Ephemeral",
          maxPods: 250,
          type: "VirtualMachineScaleSets",
          provisioningState: "Succeeded",
          powerState: { code: "Running" },
          orchestratorVersion: c.kubernetesVersion,
          currentOrchestratorVersion: c.kubernetesVersion,
          mode: "System",
          osType: "Linux",
          osSKU: "Ubuntu",
          enableAutoScaling: false,
        },
      ],
      nodeResourceGroup: `MC_${c.resourceGroup}_${c.name}_${location}`,
      enableRBAC: true,
      supportPlan: "KubernetesOfficial",
      networkProfile: {
        networkPlugin: "azure",
        networkPluginMode: "overlay",
        networkPolicy: "none",
        loadBalancerSku: "standard",
        podCidr: "10.244.0.0/16",
        serviceCidr: "10.0.0.0/16",
        dnsServiceIP: "10.0.0.10",
        outboundType: "loadBalancer",
      },
      // Without Entra integration AKS omits aadProfile and local accounts stay on.
      ...(c.entraIntegration ? { aadProfile: { managed: true, enableAzureRBAC: c.azureRbac, tenantID: tenantId } } : {}),
      disableLocalAccounts: c.entraIntegration && c.azureRbac,
      oidcIssuerProfile: { enabled: true, issuerURL: `https://${location}.oic.prod-aks.azure.com/${tenantId}/${nameUuid("oidc", id)}/` },
      securityProfile: {},
      storageProfile: { diskCSIDriver: { enabled: true }, fileCSIDriver: { enabled: true }, snapshotController: { enabled: true } },
      maxAgentPools: 100,
    },
  };
}

/** /subscriptions/{sub}[/resourceGroups/{rg}]/providers/Microsoft.ContainerService/managedClusters[/{name}] */
export function handleManagedClusters(ctx: ArmContext, sub: string, rg: string | undefined, name: string | undefined): SimResponse {
  const bad = checkProviderApiVersion(ctx.req, API_VERSIONS.containerService, "managedClusters");
  if (bad) return bad;
  const { state, caller, req } = ctx;
  if (req.method !== "GET") return methodNotAllowed(req.method);
  const read = "Microsoft.ContainerService/managedClusters/read";
  if (rg !== undefined && !getResourceGroup(state, sub, rg)) {
    const denied = authorize(state, caller, read, `/subscriptions/${sub}/resourceGroups/${rg}`);
    return denied ?? resourceGroupNotFound(rg);
  }
  const scope = rg === undefined ? `/subscriptions/${sub}` : `/subscriptions/${sub}/resourceGroups/${rg}`;
  if (name === undefined) {
    // Collection reads are filtered to what the caller may read, like ARM does for partial access.
    const items = resourcesOfType(state, CLUSTER_TYPE, scope).filter((c) => isAllowed(state, caller.objectId, read, c.id));
    if (items.length === 0) {
      const denied = authorize(state, caller, read, scope);
      if (denied) return denied;
    }
    return paged(ctx, "managedClusters", items);
  }
  const id = `${scope}/providers/Microsoft.ContainerService/managedClusters/${name}`;
  const denied = authorize(state, caller, read, id);
  if (denied) return denied;
  const cluster = state.getArm(id);
  if (!cluster || cluster.type !== CLUSTER_TYPE) return resourceNotFound("Microsoft.ContainerService/managedClusters", name, rg ?? "");
  return ok(cluster);
}
