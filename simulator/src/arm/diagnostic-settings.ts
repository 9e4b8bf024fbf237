// Diagnostic settings (Microsoft.Insights) on AKS clusters: list, get, createOrUpdate, delete, with Azure Monitor's rules.
import { z } from "zod";
import type { ArmResource, SimResponse } from "../contract";
import type { ArmContext } from "./context";
import {
  API_VERSIONS,
  armError,
  callerLabel,
  checkProviderApiVersion,
  list,
  methodNotAllowed,
  ok,
  parseBody,
  resourceNotFound,
} from "./http";
import { denyByPolicy } from "./policy";
import { authorize, isAllowed } from "./rbac";
import {
  clone,
  CLUSTER_TYPE,
  DIAGNOSTIC_SETTING_TYPE,
  isProviderRegistered,
  parseResourceId,
  resourcesOfType,
  STORAGE_TYPE,
} from "./world";

/** Resource log categories of Microsoft.ContainerService/managedClusters (Azure Monitor supported-logs reference). */
/** Log categories per monitored resource type; types not listed here have none in the simulator. */
export function logCategoriesOf(type: string): string[] {
  return type.toLowerCase() === CLUSTER_TYPE.toLowerCase() ? AKS_LOG_CATEGORIES : [];
}

export const AKS_LOG_CATEGORIES = [
  "kube-apiserver",
  "kube-audit",
  "kube-audit-admin",
  "kube-controller-manager",
  "kube-scheduler",
  "cluster-autoscaler",
  "cloud-controller-manager",
  "guard",
  "csi-azuredisk-controller",
  "csi-azurefile-controller",
  "csi-snapshot-controller",
  "fleet-member-agent",
  "fleet-member-net-controller-manager",
  "fleet-mcs-controller-manager",
];
const CATEGORY_GROUPS = ["allLogs", "audit"];
const MAX_SETTINGS = 5;

const retentionSchema = z.object({ enabled: z.boolean(), days: z.number().int().min(0) }).optional();
const settingSchema = z.object({
  properties: z.looseObject({
    storageAccountId: z.string().nullish(),
    workspaceId: z.string().nullish(),
    eventHubAuthorizationRuleId: z.string().nullish(),
    eventHubName: z.string().nullish(),
    serviceBusRuleId: z.string().nullish(),
    marketplacePartnerId: z.string().nullish(),
    logAnalyticsDestinationType: z.string().nullish(),
    logs: z
      .array(
        z.object({
          category: z.string().nullish(),
          categoryGroup: z.string().nullish(),
          enabled: z.boolean(),
          retentionPolicy: retentionSchema,
        }),
      )
      .default([]),
    metrics: z
      .array(
        z.object({
          category: z.string().nullish(),
          timeGrain: z.string().nullish(),
          enabled: z.boolean(),
          retentionPolicy: retentionSchema,
        }),
      )
      .default([]),
  }),
});

type Props = z.infer<typeof settingSchema>["properties"];

function settingsOf(ctx: ArmContext, targetId: string): ArmResource[] {
  return resourcesOfType(ctx.state, DIAGNOSTIC_SETTING_TYPE, `${targetId}/providers/Microsoft.Insights`);
}

function sinks(p: Record<string, unknown>): string[] {
  return ["storageAccountId", "workspaceId", "eventHubAuthorizationRuleId", "serviceBusRuleId", "marketplacePartnerId"]
    .map((k) => p[k])
    .filter((v): v is string => typeof v === "string" && v.length > 0);
}

/** Categories a setting sends, with category groups expanded. */
function enabledCategories(p: { logs?: unknown }): string[] {
  const logs = (p.logs ?? []) as { category?: string | null; categoryGroup?: string | null; enabled: boolean }[];
  return logs
    .filter((l) => l.enabled)
    .flatMap((l) =>
      l.category
        ? [l.category]
        : l.categoryGroup?.toLowerCase() === "alllogs"
          ? AKS_LOG_CATEGORIES
          : l.categoryGroup?.toLowerCase() === "audit"
            ? ["kube-audit", "kube-audit-admin", "guard"]
            : [],
    );
}

/** {resourceUri}/providers/Microsoft.Insights/diagnosticSettings[/{name}] */
export function handleDiagnosticSettings(ctx: ArmContext, targetPath: string, name: string | undefined): SimResponse {
  const { state, caller, req } = ctx;
  const bad = checkProviderApiVersion(req, API_VERSIONS.diagnosticSettings, "diagnosticSettings");
  if (bad) return bad;
  const target = state.getArm(targetPath);
  const { sub, rg, name: targetName } = parseResourceId(targetPath);
  const targetId = target?.id ?? targetPath;
  const op = req.method === "GET" ? "read" : req.method === "DELETE" ? "delete" : "write";
  const action = `Microsoft.Insights/diagnosticSettings/${op}`;
  const denied = authorize(state, caller, action, targetId);
  if (denied) return denied;
  if (!target || target.type === DIAGNOSTIC_SETTING_TYPE) {
    const typePath = targetPath.split("/providers/")[1]?.split("/").slice(0, -1).join("/") ?? "resource";
    return resourceNotFound(typePath, targetName ?? "", rg ?? "");
  }
  if (name === undefined) {
    if (req.method !== "GET") return methodNotAllowed(req.method);
    return list(settingsOf(ctx, targetId).map(clone));
  }
  const id = `${targetId}/providers/Microsoft.Insights/diagnosticSettings/${name}`;
  const existing = state.getArm(id);
  switch (req.method) {
    case "GET":
      return existing ? ok(clone(existing)) : armError(404, "ResourceNotFound", `The diagnostic setting '${name}' doesn't exist.`);
    case "DELETE":
      if (!existing) return { status: 204 };
      state.deleteArm(id);
      state.events.emit("diagnosticSettingsChanged", targetId);
      return { status: 200 };
    case "PUT":
      break;
    default:
      return methodNotAllowed(req.method);
  }
  if (sub && !isProviderRegistered(state, sub, "Microsoft.Insights"))
    return armError(409, "Conflict", `The subscription '${sub}' is not registered to use microsoft.insights.`);
  const parsed = parseBody(settingSchema, req.body);
  if ("error" in parsed) return parsed.error;
  const p: Props = parsed.data.properties;
  const destinations = sinks(p);
  if (destinations.length === 0)
    return armError(400, "BadRequest", "At least one storage account, event hub, or log analytics workspace must be specified.");
  for (const l of p.logs) {
    if (l.category && !logCategoriesOf(target.type).includes(l.category))
      return armError(400, "BadRequest", `Category '${l.category}' is not supported.`);
    if (!l.category && (!l.categoryGroup || !CATEGORY_GROUPS.some((g) => g.toLowerCase() === l.categoryGroup?.toLowerCase())))
      return armError(400, "BadRequest", `Category group '${l.categoryGroup ?? ""}' is not supported.`);
  }
  for (const m of p.metrics)
    if (m.category && m.category !== "AllMetrics") return armError(400, "BadRequest", `Category '${m.category}' is not supported.`);
  // Retention in diagnostic settings is retired (2025-09-30); only "off" is accepted, lifecycle policies replace it.
  if ([...p.logs, ...p.metrics].some((x) => x.retentionPolicy && (x.retentionPolicy.enabled || x.retentionPolicy.days > 0)))
    return armError(
      400,
      "BadRequest",
      "Diagnostic settings storage retention is no longer supported. Set retentionPolicy to disabled with 0 days and use Azure Storage lifecycle management.",
    );

  if (p.storageAccountId) {
    const account = state.getArm(p.storageAccountId);
    if (!account || account.type !== STORAGE_TYPE)
      return armError(400, "BadRequest", `Storage account '${p.storageAccountId}' could not be found.`);
    if (account.location !== target.location)
      return armError(
        400,
        "BadRequest",
        `Resources should be in the same region. Resource '${targetId}' is in region '${target.location ?? ""}' and storage account '${account.id}' is in region '${account.location ?? ""}'.`,
      );
    // Linked access check: writing a storage sink needs listKeys on the account too.
    if (!isAllowed(state, caller.objectId, "Microsoft.Storage/storageAccounts/listKeys/action", account.id))
      return armError(
        403,
        "LinkedAuthorizationFailed",
        `The client '${callerLabel(caller)}' with object id '${caller.objectId}' has permission to perform action '${action}' on scope '${targetId}'; however, it does not have permission to perform action(s) 'Microsoft.Storage/storageAccounts/listKeys/action' on the linked scope(s) '${account.id}' (respectively) or the linked scope(s) are invalid.`,
      );
  }
  const others = settingsOf(ctx, targetId).filter((s) => s.name.toLowerCase() !== name.toLowerCase());
  if (!existing && others.length >= MAX_SETTINGS)
    return armError(400, "BadRequest", `Diagnostic settings count exceeds the limit of ${MAX_SETTINGS} for resource '${targetId}'.`);
  const mine = enabledCategories(p);
  for (const other of others) {
    const shared = sinks(other.properties).filter((s) => destinations.some((d) => d.toLowerCase() === s.toLowerCase()));
    const overlap = enabledCategories(other.properties).find((c) => mine.includes(c));
    const sink = shared[0];
    if (sink && overlap)
      return armError(
        409,
        "Conflict",
        `Data sink '${sink}' is already used in diagnostic setting '${other.name}' for category '${overlap}'. Data sinks can't be reused in different settings on the same category for the same resource.`,
      );
  }
  const disallowed = denyByPolicy(state, { id, name: existing?.name ?? name, type: DIAGNOSTIC_SETTING_TYPE, properties: { ...p } });
  if (disallowed) return disallowed;
  const resource: ArmResource = {
    id,
    name: existing?.name ?? name,
    type: DIAGNOSTIC_SETTING_TYPE,
    properties: {
      ...(p.storageAccountId ? { storageAccountId: p.storageAccountId } : {}),
      ...(p.workspaceId ? { workspaceId: p.workspaceId } : {}),
      ...(p.eventHubAuthorizationRuleId
        ? { eventHubAuthorizationRuleId: p.eventHubAuthorizationRuleId, eventHubName: p.eventHubName ?? null }
        : {}),
      ...(p.serviceBusRuleId ? { serviceBusRuleId: p.serviceBusRuleId } : {}),
      ...(p.logAnalyticsDestinationType ? { logAnalyticsDestinationType: p.logAnalyticsDestinationType } : {}),
      metrics: p.metrics.map((m) => ({ ...m, retentionPolicy: { enabled: false, days: 0 } })),
      logs: p.logs.map((l) => ({ ...l, retentionPolicy: { enabled: false, days: 0 } })),
    },
  };
  state.putArm(resource);
  state.events.emit("diagnosticSettingsChanged", targetId);
  return ok(clone(resource));
}
