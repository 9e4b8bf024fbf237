// Shared contract between the simulator's platform (server, identity, control API) and its ARM/Graph handlers.
import { z } from "zod";

const uuid = z.string().uuid();

/** A scenario file (simulator/scenarios/*.json): the tenant, its users and its Azure estate. */
const tenantSchema = z.object({ id: uuid, domain: z.string().min(3), displayName: z.string().min(1) });
const userSchema = z.object({
  upn: z.string().min(3),
  displayName: z.string().min(1),
  objectId: uuid,
  directoryRoles: z.array(z.string()).default([]),
  /** subscriptionId → built-in role names (Owner, Contributor, Reader, User Access Administrator, …). */
  subscriptionRoles: z.record(z.string(), z.array(z.string())).default({}),
});

/**
 * A service principal of the home tenant with a client secret (`az login --service-principal -u appId -p secret`): its
 * application object and service principal are in the directory from the start. ARM authorizes it by its role
 * assignments, Graph by its application permissions (app role assignments on Microsoft Graph, as admin consent makes
 * them) and its directory roles (Entra roles can be assigned to service principals: Microsoft Entra docs,
 * "Assign Microsoft Entra roles to users" / roleManagement directory role assignments accept a servicePrincipal).
 */
const servicePrincipalSchema = z.object({
  appId: uuid,
  /** Object id of the service principal (the principalId of its role assignments). */
  objectId: uuid,
  /** Object id of the application object. */
  applicationObjectId: uuid,
  displayName: z.string().min(1),
  secret: z.string().min(16),
  directoryRoles: z.array(z.string()).default([]),
  /** subscriptionId → built-in role names, assigned at subscription scope. */
  subscriptionRoles: z.record(z.string(), z.array(z.string())).default({}),
  /** Microsoft Graph application permissions granted with admin consent (e.g. Application.Read.All). */
  graphAppRoles: z.array(z.string()).default([]),
});

export const scenarioSchema = z.object({
  tenant: tenantSchema,
  users: z.array(userSchema).min(1),
  servicePrincipals: z.array(servicePrincipalSchema).default([]),
  /**
   * Other Entra tenants whose users can sign in to this simulator (e.g. the vendor's own tenant): no subscriptions,
   * no directory beyond their users. Their tokens reach ARM's tenant-level routes only (GET /subscriptions, /tenants).
   */
  extraTenants: z.array(z.object({ tenant: tenantSchema, users: z.array(userSchema).min(1) })).default([]),
  subscriptions: z.array(
    z.object({
      id: uuid,
      displayName: z.string().min(1),
      /** Subscription state (Subscriptions - List): Disabled, Warned, PastDue are read-only for writes. */
      state: z.enum(["Enabled", "Disabled", "Warned", "PastDue", "Deleted"]).default("Enabled"),
      registeredProviders: z.array(z.string()).default([]),
      resourceGroups: z
        .array(z.object({ name: z.string().min(1), location: z.string().min(1), tags: z.record(z.string(), z.string()).optional() }))
        .default([]),
      clusters: z
        .array(
          z.object({
            name: z.string().min(1),
            resourceGroup: z.string().min(1),
            location: z.string().min(1),
            azureRbac: z.boolean().default(true),
            /** Microsoft Entra integration (aadProfile). Without it, clusterUser credentials are cluster-admin (MicrosoftDocs control-kubeconfig-access.md). */
            entraIntegration: z.boolean().default(true),
            kubernetesVersion: z.string().default("1.33.2"),
            /** Pre-existing settings, as ARM bodies: { name, storageAccountId?, workspaceId?, logs: [{category, enabled}] }. */
            diagnosticSettings: z
              .array(
                z.object({
                  name: z.string(),
                  storageAccountId: z.string().optional(),
                  workspaceId: z.string().optional(),
                  logs: z.array(z.object({ category: z.string(), enabled: z.boolean() })),
                }),
              )
              .default([]),
          }),
        )
        .default([]),
      /** Pre-existing storage accounts (e.g. one the customer wants to adopt). */
      storageAccounts: z
        .array(
          z.object({
            name: z.string(),
            resourceGroup: z.string(),
            location: z.string(),
            tags: z.record(z.string(), z.string()).optional(),
            /** networkAcls.defaultAction of the existing account (Azure's default for a new account is Allow). */
            networkDefaultAction: z.enum(["Allow", "Deny"]).default("Allow"),
          }),
        )
        .default([]),
      /** Log Analytics workspaces; customerId is the GUID their query API (POST /v1/workspaces/{customerId}/query) uses. */
      logAnalyticsWorkspaces: z
        .array(z.object({ name: z.string(), resourceGroup: z.string(), location: z.string(), customerId: uuid }))
        .default([]),
    }),
  ),
  /** Names that checkNameAvailability reports as taken by some other Azure customer. */
  takenStorageAccountNames: z.array(z.string()).default([]),
  /** Azure Policy assignments of built-in definitions (simulator/src/arm/policy-definitions.ts) at subscription or group scope. */
  policyAssignments: z
    .array(
      z.object({
        name: z.string().min(1),
        displayName: z.string().optional(),
        description: z.string().optional(),
        /** /subscriptions/{id} or /subscriptions/{id}/resourceGroups/{rg}. */
        scope: z.string().regex(/^\/subscriptions\/[^/]+(\/resourceGroups\/[^/]+)?$/i),
        /** /providers/Microsoft.Authorization/policyDefinitions/{guid} of a built-in. */
        policyDefinitionId: z.string().min(1),
        parameters: z.record(z.string(), z.object({ value: z.unknown() })).default({}),
        notScopes: z.array(z.string()).default([]),
        enforcementMode: z.enum(["Default", "DoNotEnforce"]).default("Default"),
        /** The assignment's non-compliance message: a deny then says "Reasons: '…'" instead of listing policy identifiers. */
        nonComplianceMessage: z.string().optional(),
      }),
    )
    .default([]),
  /** Management locks at subscription, resource group or resource scope (full ARM id). */
  locks: z
    .array(
      z.object({
        name: z.string().min(1),
        scope: z.string().regex(/^\/subscriptions\/[^/]+(\/.+)?$/i),
        level: z.enum(["CanNotDelete", "ReadOnly"]),
        notes: z.string().optional(),
      }),
    )
    .default([]),
  /** nextLink paging of list responses (pageSize, or per list in byList); absent: every list answers in one page. */
  paging: z
    .object({
      pageSize: z.number().int().positive(),
      byList: z
        .object({
          subscriptions: z.number().int().positive(),
          managedClusters: z.number().int().positive(),
          storageAccounts: z.number().int().positive(),
          roleAssignments: z.number().int().positive(),
          policyAssignments: z.number().int().positive(),
        })
        .partial()
        .default({}),
    })
    .optional(),
});
export type Scenario = z.infer<typeof scenarioSchema>;

/** Who called: decoded from a verified access token. */
export interface Caller {
  kind: "user" | "app";
  tenantId: string;
  /** Object id of the user or of the service principal. */
  objectId: string;
  /** appId of the client the token was issued to (portal or created app). */
  appId: string;
  upn?: string;
  /** Delegated scopes (users), e.g. ["user_impersonation"] or ["Application.ReadWrite.All", …]. */
  scopes: string[];
  /** Application roles (apps), e.g. ["Data.Read"]. */
  roles: string[];
  audience: "arm" | "graph" | "loganalytics" | "storage";
}

/** One ARM resource exactly as its GET returns it (ids keep Azure's casing; lookups are case-insensitive). */
export interface ArmResource {
  id: string;
  name: string;
  type: string;
  location?: string;
  tags?: Record<string, string>;
  sku?: Record<string, unknown>;
  kind?: string;
  properties: Record<string, unknown>;
  [extra: string]: unknown;
}

/** A parsed HTTPS request as handlers see it. */
export interface SimRequest {
  method: string;
  /** Path with duplicate slashes collapsed, no query string (arm-monitor sends `//subscriptions/…`). */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | undefined>;
  /** Parsed JSON body, or undefined. */
  body: unknown;
  caller: Caller;
}

/** What a handler answers; `body` is serialised as JSON unless it is a string. */
export interface SimResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Azure's error envelope: {"error":{"code","message"}}. */
export function azureError(status: number, code: string, message: string, headers?: Record<string, string>): SimResponse {
  return { status, body: { error: { code, message } }, headers };
}

/** Built-in Azure role definitions the simulator knows (ids are the real, global ones). */
export const BUILTIN_ROLES = {
  Owner: { id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", actions: ["*"], notActions: [], dataActions: [] },
  Contributor: {
    id: "b24988ac-6180-42a0-ab88-20f7382dd24c",
    actions: ["*"],
    notActions: ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write", "Microsoft.Authorization/elevateAccess/Action"],
    dataActions: [],
  },
  Reader: { id: "acdd72a7-3385-48ef-bd42-f606fba81ae7", actions: ["*/read"], notActions: [], dataActions: [] },
  "User Access Administrator": {
    id: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
    actions: ["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
    notActions: [],
    dataActions: [],
  },
  "Role Based Access Control Administrator": {
    id: "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
    actions: [
      "Microsoft.Authorization/roleAssignments/write",
      "Microsoft.Authorization/roleAssignments/delete",
      "*/read",
      "Microsoft.Support/*",
    ],
    notActions: [],
    dataActions: [],
  },
  "Log Analytics Reader": {
    id: "73c42c96-874c-492b-b04d-ab87d138a893",
    actions: [
      "*/read",
      "Microsoft.OperationalInsights/workspaces/analytics/query/action",
      "Microsoft.OperationalInsights/workspaces/search/action",
    ],
    notActions: ["Microsoft.OperationalInsights/workspaces/sharedKeys/read"],
    dataActions: [],
  },
  "Storage Blob Data Reader": {
    id: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    actions: [
      "Microsoft.Storage/storageAccounts/blobServices/containers/read",
      "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
    ],
    notActions: [],
    dataActions: ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"],
  },
  "Monitoring Contributor": {
    id: "749f88d5-cbae-40b8-bcfc-e573ddc772fa",
    actions: ["*/read", "Microsoft.Insights/diagnosticSettings/*", "Microsoft.Insights/*"],
    notActions: [],
    dataActions: [],
  },
} as const;
export type BuiltinRoleName = keyof typeof BUILTIN_ROLES;

/** Well-known first-party app ids. */
export const WELL_KNOWN_APPS = {
  logAnalyticsApi: "ca7f3f0b-7d91-482c-8e09-c5d840d0eac5",
  microsoftGraph: "00000003-0000-0000-c000-000000000000",
  azureServiceManagement: "797f4846-ba00-4fd7-ba43-dac1f8f63013",
} as const;

/** Log Analytics API app role "Data.Read" (application permission). */
export const LOG_ANALYTICS_DATA_READ_ROLE_ID = "e8f6e161-84d0-4cd7-9441-2d46ec9ec3d5";

/** Entra directory roles allowed to grant app roles (admin consent) for non-Graph resources. */
export const CONSENT_DIRECTORY_ROLES = [
  "Global Administrator",
  "Privileged Role Administrator",
  "Cloud Application Administrator",
  "Application Administrator",
  "Directory Writers",
  "Hybrid Identity Administrator",
  "Identity Governance Administrator",
  "User Administrator",
] as const;
