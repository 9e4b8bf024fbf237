// AKS managed clusters: list (subscription), listByResourceGroup, get, and the user/admin credential POSTs. No writes.
import { createHash } from "node:crypto";
import type { ArmResource, SimResponse } from "../contract";
import type { Scenario } from "../contract";
import type { ArmContext } from "./context";
import { paged } from "./paging";
import {
  API_VERSIONS,
  armError,
  checkProviderApiVersion,
  methodNotAllowed,
  nameUuid,
  ok,
  resourceGroupNotFound,
  resourceNotFound,
} from "./http";
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

// Well-known ids in an Entra-integrated cluster's exec kubeconfig (Azure/kubelogin README): the AKS AAD server app and
// the Azure CLI client.
const AKS_AAD_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
const AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/** Deterministic stand-in bytes (base64) for one cluster's certificate material: never real keys. */
function fakeMaterial(id: string, what: string): string {
  return Buffer.from(
    `simulated ${what} for ${id.toLowerCase()} ${createHash("sha256").update(`${what}|${id.toLowerCase()}`).digest("hex")}`,
  ).toString("base64");
}

/** The kubeconfig YAML AKS returns for one cluster: static (client certificate + token) or Entra exec (no credential). */
function kubeconfig(cluster: ArmResource, tenantId: string, kind: "clusterUser" | "clusterAdmin", entra: boolean): string {
  const p = cluster.properties as { fqdn?: string };
  const name = cluster.name;
  const rg = /\/resourceGroups\/([^/]+)/i.exec(cluster.id)?.[1] ?? "";
  const userName = `${kind}_${rg}_${name}`;
  const user = entra
    ? [
        "    exec:",
        "      apiVersion: client.authentication.k8s.io/v1beta1",
        "      command: kubelogin",
        "      args:",
        "      - get-token",
        "      - --environment",
        "      - AzurePublicCloud",
        "      - --server-id",
        `      - ${AKS_AAD_SERVER_APP_ID}`,
        "      - --client-id",
        `      - ${AZURE_CLI_CLIENT_ID}`,
        "      - --tenant-id",
        `      - ${tenantId}`,
        "      - --login",
        "      - devicecode",
        "      interactiveMode: IfAvailable",
        "      provideClusterInfo: false",
      ]
    : [
        `    client-certificate-data: ${fakeMaterial(cluster.id, `${kind} certificate`)}`,
        `    client-key-data: ${fakeMaterial(cluster.id, `${kind} key`)}`,
        `    token: ${createHash("sha256").update(`${kind}|token|${cluster.id.toLowerCase()}`).digest("hex")}`,
      ];
  return [
    "apiVersion: v1",
    "clusters:",
    "- cluster:",
    `    certificate-authority-data: ${fakeMaterial(cluster.id, "cluster CA")}`,
    `    server: https://${p.fqdn ?? `${name}.hcp.azmk8s.io`}:443`,
    `  name: ${name}`,
    "contexts:",
    "- context:",
    `    cluster: ${name}`,
    `    user: ${userName}`,
    `  name: ${name}`,
    `current-context: ${name}`,
    "kind: Config",
    "preferences: {}",
    "users:",
    `- name: ${userName}`,
    "  user:",
    ...user,
    "",
  ].join("\n");
}

/**
 * POST …/managedClusters/{name}/listClusterUserCredential | listClusterAdminCredential (AKS REST spec, Managed Clusters:
 * "List Cluster User Credentials" / "List Cluster Admin Credentials"): `{kubeconfigs:[{name, value: base64}]}`.
 * Without Microsoft Entra integration the user kubeconfig carries static credentials like the admin one: "On clusters that
 * don't use Microsoft Entra ID, the clusterUser role has same effect of clusterAdmin role" (AKS docs,
 * control-kubeconfig-access.md). With it, the user kubeconfig is a kubelogin exec entry without any credential.
 */
export function handleClusterCredentials(
  ctx: ArmContext,
  sub: string,
  rg: string,
  name: string,
  verb: "listclusterusercredential" | "listclusteradmincredential",
): SimResponse {
  const bad = checkProviderApiVersion(ctx.req, API_VERSIONS.containerService, "managedClusters");
  if (bad) return bad;
  const { state, caller, req } = ctx;
  if (req.method !== "POST") return methodNotAllowed(req.method);
  const admin = verb === "listclusteradmincredential";
  const action = `Microsoft.ContainerService/managedClusters/${admin ? "listClusterAdminCredential" : "listClusterUserCredential"}/action`;
  const id = `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.ContainerService/managedClusters/${name}`;
  if (!getResourceGroup(state, sub, rg))
    return authorize(state, caller, action, `/subscriptions/${sub}/resourceGroups/${rg}`) ?? resourceGroupNotFound(rg);
  const denied = authorize(state, caller, action, id);
  if (denied) return denied;
  const cluster = state.getArm(id);
  if (!cluster || cluster.type !== CLUSTER_TYPE) return resourceNotFound("Microsoft.ContainerService/managedClusters", name, rg);
  const p = cluster.properties as { aadProfile?: unknown; disableLocalAccounts?: boolean };
  const entra = p.aadProfile != null;
  // Local accounts disabled: no static credential at all (400 BadRequest; AKS docs manage-local-accounts-managed-azure-ad,
  // text as in hashicorp/terraform-provider-azurerm#15489).
  if (admin && p.disableLocalAccounts) {
    return armError(400, "BadRequest", "Getting static credential is not allowed because this cluster is set to disable local accounts.");
  }
  const kind = admin ? "clusterAdmin" : "clusterUser";
  const value = Buffer.from(kubeconfig(cluster, state.scenario.tenant.id, kind, entra && !admin)).toString("base64");
  return ok({ kubeconfigs: [{ name: kind, value }] });
}
