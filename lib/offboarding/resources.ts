// Live reads and removals of what a run created, one kind at a time: every removal is verified by reading again.
import type { TokenCredential } from "@azure/core-auth";
import { deleteApplication } from "@/lib/azure/delete-application";
import { deleteDiagnosticSetting } from "@/lib/azure/delete-diagnostic-setting";
import { deleteManagementPolicy } from "@/lib/azure/delete-management-policy";
import { deleteResourceGroup } from "@/lib/azure/delete-resource-group";
import { deleteRoleAssignment } from "@/lib/azure/delete-role-assignment";
import { deleteRoleDefinition } from "@/lib/azure/delete-role-definition";
import { deleteServicePrincipal } from "@/lib/azure/delete-service-principal";
import { deleteStorageAccount } from "@/lib/azure/delete-storage-account";
import { deregisterWorkbenchDevice } from "@/lib/azure/deregister-workbench-device";
import { AzureOperationError } from "@/lib/azure/errors";
import { getApplicationDetails } from "@/lib/azure/get-application-details";
import { getCustomRoleDefinition } from "@/lib/azure/get-custom-role-definition";
import { getManagementPolicy } from "@/lib/azure/get-management-policy";
import { getRoleAssignmentById } from "@/lib/azure/get-role-assignment";
import { getServicePrincipalByAppId } from "@/lib/azure/get-service-principal-by-app-id";
import { getStorageAccount } from "@/lib/azure/get-storage-account";
import { WELL_KNOWN_APP_IDS } from "@/lib/azure/graph-ids";
import { listAppRoleAssignments } from "@/lib/azure/list-app-role-assignments";
import { listDiagnosticSettings } from "@/lib/azure/list-diagnostic-settings";
import { listResourceGroupResources } from "@/lib/azure/list-resource-group-resources";
import { listWorkbenchDevices } from "@/lib/azure/list-workbench-devices";
import { roleAssignmentName } from "@/lib/azure/names";
import { removeApplicationPassword } from "@/lib/azure/remove-application-password";
import { revokeAppRoleAssignment } from "@/lib/azure/revoke-app-role-assignment";
import type { WorkbenchConfig } from "@/lib/azure/workbench-client";
import type { RunConfig } from "@/lib/steps/config";
import { keyValue, type Candidate, type RemovableCategory } from "./classify";

/** What the live reads and removals need. */
export interface LiveContext {
  tenantId: string;
  config: RunConfig;
  arm: TokenCredential;
  graph: TokenCredential;
  /** Outputs of the run's done steps (ids the log doesn't carry, e.g. the app's appId). */
  outputs: Partial<Record<string, unknown>>;
  workbench: WorkbenchConfig | null;
}

/** A resource that exists now: how to remove it and how to check it is gone. */
export interface LiveResource {
  remove(): Promise<void>;
  exists(): Promise<boolean>;
}

/** Resolution of a candidate against Azure: absent, present (removable), or present but not the run's to remove. */
export type Resolution = { state: "absent" } | { state: "present"; live: LiveResource } | { state: "foreign"; reason: string };

/** People-facing type and name of a candidate. */
export function describe(category: RemovableCategory, key: string): { resourceType: string; resource: string } {
  const v = keyValue(key);
  switch (category) {
    case "workbench-device":
      return { resourceType: "Workbench security device", resource: v };
    case "role-assignment":
      return { resourceType: "Role assignment", resource: v };
    case "custom-role":
      return { resourceType: "Custom role", resource: v };
    case "consent":
      return { resourceType: "Admin consent (Log Analytics Data.Read)", resource: v.split("/")[0] ?? v };
    case "client-secret":
      return { resourceType: "Client secret", resource: v };
    case "application":
      return { resourceType: "App registration", resource: v };
    case "service-principal":
      return { resourceType: "Service principal", resource: v };
    case "diagnostic-setting": {
      const [cluster = v, name = ""] = v.split("/providers/Microsoft.Insights/diagnosticSettings/");
      return { resourceType: "Diagnostic setting", resource: `${cluster.split("/").pop() ?? cluster}/${name}` };
    }
    case "lifecycle-policy":
      return { resourceType: "Lifecycle policy", resource: parseAccountId(v.replace(/\/managementPolicies\/default$/i, ""))?.name ?? v };
    case "storage-account":
      return { resourceType: "Storage account", resource: parseAccountId(v)?.name ?? v };
    case "resource-group":
      return { resourceType: "Resource group", resource: /\/resourceGroups\/([^/]+)$/i.exec(v)?.[1] ?? v };
  }
}

const ACCOUNT_ID = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Storage\/storageAccounts\/([^/]+)$/i;

/** Subscription, group and name of a storage account id. */
export function parseAccountId(id: string): { subscriptionId: string; resourceGroup: string; name: string } | null {
  const m = ACCOUNT_ID.exec(id);
  return m?.[1] && m[2] && m[3] ? { subscriptionId: m[1], resourceGroup: m[2], name: m[3] } : null;
}

const same = (a: string | null | undefined, b: string | null | undefined) => (a ?? "").toLowerCase() === (b ?? "").toLowerCase();

function outputString(ctx: LiveContext, step: string, field: string): string | null {
  const out = ctx.outputs[step];
  if (typeof out !== "object" || out === null) return null;
  const value = (out as Record<string, unknown>)[field];
  return typeof value === "string" && value !== "" ? value : null;
}

// A missing parent (cluster, account, group) reads as Azure's 404: the child is gone too.
async function absentOn404<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (error) {
    if (error instanceof AzureOperationError && error.code === "not_found") return null;
    throw error;
  }
}

/** The vendor's app id: from the app-registration step's outputs, else from the app registration itself. */
async function vendorAppId(ctx: LiveContext): Promise<string | null> {
  return (
    outputString(ctx, "app-registration", "appId") ??
    (await getApplicationDetails(ctx.graph, ctx.config.vendor.appUniqueName))?.appId ??
    null
  );
}

async function vendorPrincipalId(ctx: LiveContext): Promise<string | null> {
  const fromOutputs = outputString(ctx, "app-registration", "servicePrincipalId");
  if (fromOutputs) return fromOutputs;
  const appId = await vendorAppId(ctx);
  return appId ? ((await getServicePrincipalByAppId(ctx.graph, appId))?.id ?? null) : null;
}

/** Reads the candidate's resource now. `foreign` means it exists but is not what this run created. */
export async function resolve(c: Candidate, ctx: LiveContext): Promise<Resolution> {
  const v = keyValue(c.key);
  switch (c.category) {
    case "workbench-device": {
      const wb = ctx.workbench;
      if (!wb)
        return { state: "foreign", reason: "The portal's Workbench API is no longer configured: remove the device in Workbench by hand." };
      const find = async () => (await listWorkbenchDevices(wb)).find((d) => (c.resourceId ? d.id === c.resourceId : d.name === v)) ?? null;
      const device = await find();
      if (!device) return { state: "absent" };
      return {
        state: "present",
        live: { remove: () => deregisterWorkbenchDevice(wb, device.id), exists: async () => (await find()) !== null },
      };
    }
    case "role-assignment": {
      const m = /^role-assignments\.([0-9a-f-]{36}):(.+)$/i.exec(c.key);
      if (!m?.[1] || !m[2]) return { state: "absent" };
      const [, guid, scope] = m;
      let id = c.resourceId;
      if (!id) {
        const principal = await vendorPrincipalId(ctx);
        if (!principal) return { state: "absent" };
        id = `${scope.replace(/\/+$/, "")}/providers/Microsoft.Authorization/roleAssignments/${roleAssignmentName(scope, principal, guid)}`;
      }
      const assignmentId = id;
      const found = await getRoleAssignmentById(ctx.arm, assignmentId);
      if (!found) return { state: "absent" };
      // Azure's RoleAssignmentExists path logs the assignment it found under another name: that one predates the run.
      if (!same(found.name, roleAssignmentName(scope, found.principalId, guid))) {
        return { state: "foreign", reason: "The vendor already held this role here under another assignment name; it predates this run." };
      }
      return {
        state: "present",
        live: {
          remove: () => deleteRoleAssignment(ctx.arm, found.scope || scope, found.name),
          exists: async () => (await getRoleAssignmentById(ctx.arm, assignmentId)) !== null,
        },
      };
    }
    case "custom-role": {
      const first = ctx.config.subscriptions[0];
      if (!first) return { state: "absent" };
      const scope = `/subscriptions/${first.id}`;
      const role = await getCustomRoleDefinition(ctx.arm, scope, v);
      if (!role) return { state: "absent" };
      return {
        state: "present",
        live: {
          remove: () => deleteRoleDefinition(ctx.arm, scope, v),
          exists: async () => (await getCustomRoleDefinition(ctx.arm, scope, v)) !== null,
        },
      };
    }
    case "consent": {
      const principal = await vendorPrincipalId(ctx);
      const la = await getServicePrincipalByAppId(ctx.graph, WELL_KNOWN_APP_IDS.logAnalyticsApi);
      if (!principal || !la) return { state: "absent" };
      const find = async () =>
        (await absentOn404(() => listAppRoleAssignments(ctx.graph, principal, "principal")))?.find((g) =>
          c.resourceId ? same(g.id, c.resourceId) : same(g.resourceId, la.id),
        ) ?? null;
      const grant = await find();
      if (!grant) return { state: "absent" };
      return {
        state: "present",
        live: { remove: () => revokeAppRoleAssignment(ctx.graph, la.id, grant.id), exists: async () => (await find()) !== null },
      };
    }
    case "client-secret": {
      const find = async () => {
        const app = await getApplicationDetails(ctx.graph, ctx.config.vendor.appUniqueName);
        const cred = app?.passwordCredentials.find((p) => (c.resourceId ? same(p.keyId, c.resourceId) : p.displayName === v));
        return app && cred ? { appObjectId: app.id, keyId: cred.keyId } : null;
      };
      const found = await find();
      if (!found) return { state: "absent" };
      return {
        state: "present",
        live: {
          remove: () => removeApplicationPassword(ctx.graph, found.appObjectId, found.keyId),
          exists: async () => (await find()) !== null,
        },
      };
    }
    case "application": {
      const app = await getApplicationDetails(ctx.graph, v);
      if (!app) return { state: "absent" };
      if (c.resourceId && !same(app.id, c.resourceId))
        return { state: "foreign", reason: "An app registration with this name exists, but it is not the one this run created." };
      return {
        state: "present",
        live: {
          remove: () => deleteApplication(ctx.graph, app.id),
          exists: async () => (await getApplicationDetails(ctx.graph, v)) !== null,
        },
      };
    }
    case "service-principal": {
      const appId = await vendorAppId(ctx);
      if (!appId) return { state: "absent" };
      const sp = await getServicePrincipalByAppId(ctx.graph, appId);
      if (!sp) return { state: "absent" };
      return {
        state: "present",
        live: {
          remove: () => deleteServicePrincipal(ctx.graph, sp.id),
          exists: async () => (await getServicePrincipalByAppId(ctx.graph, appId)) !== null,
        },
      };
    }
    case "diagnostic-setting": {
      const [clusterId = "", name = ""] = v.split("/providers/Microsoft.Insights/diagnosticSettings/");
      const find = async () => (await absentOn404(() => listDiagnosticSettings(ctx.arm, clusterId)))?.find((s) => s.name === name) ?? null;
      if (!(await find())) return { state: "absent" };
      return {
        state: "present",
        live: { remove: () => deleteDiagnosticSetting(ctx.arm, clusterId, name), exists: async () => (await find()) !== null },
      };
    }
    case "lifecycle-policy": {
      const a = parseAccountId(v.replace(/\/managementPolicies\/default$/i, ""));
      if (!a) return { state: "absent" };
      const read = () => absentOn404(() => getManagementPolicy(ctx.arm, a.subscriptionId, a.resourceGroup, a.name));
      if (!(await read())) return { state: "absent" };
      return {
        state: "present",
        live: {
          remove: () => deleteManagementPolicy(ctx.arm, a.subscriptionId, a.resourceGroup, a.name),
          exists: async () => (await read()) !== null,
        },
      };
    }
    case "storage-account": {
      const a = parseAccountId(v);
      if (!a) return { state: "absent" };
      const read = () => getStorageAccount(ctx.arm, a.subscriptionId, a.resourceGroup, a.name);
      if (!(await read())) return { state: "absent" };
      return {
        state: "present",
        live: {
          remove: () => deleteStorageAccount(ctx.arm, a.subscriptionId, a.resourceGroup, a.name),
          exists: async () => (await read()) !== null,
        },
      };
    }
    case "resource-group": {
      const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)$/i.exec(v);
      if (!m?.[1] || !m[2]) return { state: "absent" };
      const [, sub, name] = m;
      const list = () => listResourceGroupResources(ctx.arm, sub, name);
      if ((await list()) === null) return { state: "absent" };
      return {
        state: "present",
        live: {
          async remove() {
            // Deleting a group deletes everything in it: only ever an empty one.
            const inside = await list();
            if (inside === null) return;
            if (inside.length > 0)
              throw new GroupNotEmptyError(
                name,
                inside.map((r) => r.name),
              );
            await deleteResourceGroup(ctx.arm, sub, name);
          },
          exists: async () => (await list()) !== null,
        },
      };
    }
    case null:
      return { state: "absent" };
  }
}

/** What else a resource group holds besides `removing` (ids the plan removes first); null when the group is gone. */
export async function otherResourcesInGroup(ctx: LiveContext, key: string, removing: ReadonlySet<string>): Promise<string[] | null> {
  const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)$/i.exec(keyValue(key));
  if (!m?.[1] || !m[2]) return null;
  const inside = await listResourceGroupResources(ctx.arm, m[1], m[2]);
  return inside === null ? null : inside.filter((r) => !removing.has(r.id.toLowerCase())).map((r) => r.name);
}

/** The group holds resources the run didn't create: it is kept. */
export class GroupNotEmptyError extends Error {
  constructor(
    readonly group: string,
    readonly names: string[],
  ) {
    super(`Resource group ${group} still holds ${names.join(", ")}, which this run didn't create, so it is kept.`);
    this.name = "GroupNotEmptyError";
  }
}
