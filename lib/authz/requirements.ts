// What each piece of work needs from the acting user, in Azure's own terms: ARM actions per subscription, Entra roles.
import "server-only";
import type { StepId } from "@/lib/steps/registry";

/** Entra built-in role template ids (identical in every tenant; learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference). */
export const ENTRA_ROLE_TEMPLATES = {
  globalAdministrator: "62e90394-69f5-4237-9190-012177145e10",
  privilegedRoleAdministrator: "e8611ab8-c189-46e8-94e1-60213ab1f814",
  applicationAdministrator: "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
  cloudApplicationAdministrator: "158c047a-c907-4556-b7ef-446551a6b5f7",
} as const;

/** Roles that may grant admin consent to the app's Log Analytics Data.Read (an app role of a non-Graph API). */
export const CONSENT_ROLES = [
  ENTRA_ROLE_TEMPLATES.globalAdministrator,
  ENTRA_ROLE_TEMPLATES.privilegedRoleAdministrator,
  ENTRA_ROLE_TEMPLATES.cloudApplicationAdministrator,
  ENTRA_ROLE_TEMPLATES.applicationAdministrator,
] as const;

/** Roles that may manage any app registration's credentials; an owner of the app may too. */
export const APP_MANAGER_ROLES = [
  ENTRA_ROLE_TEMPLATES.globalAdministrator,
  ENTRA_ROLE_TEMPLATES.cloudApplicationAdministrator,
  ENTRA_ROLE_TEMPLATES.applicationAdministrator,
] as const;

/** Which subscriptions of a run an ARM requirement applies to. */
export type SubscriptionSet = "storage" | "clusters" | "all";

/** One thing the user must hold, with the words that name it to an admin. */
export type Requirement =
  | { kind: "arm"; on: SubscriptionSet; actions: readonly string[]; roles: string }
  | { kind: "entra-consent"; roles: string }
  | { kind: "entra-app"; roles: string };

const STORAGE_WRITE: Requirement = {
  kind: "arm",
  on: "storage",
  actions: ["Microsoft.Resources/subscriptions/resourceGroups/write", "Microsoft.Storage/storageAccounts/write"],
  roles: "Contributor or Owner",
};
const DIAGNOSTIC_WRITE: Requirement[] = [
  {
    kind: "arm",
    on: "clusters",
    actions: ["Microsoft.Insights/diagnosticSettings/write"],
    roles: "Monitoring Contributor, Contributor or Owner",
  },
  // Azure Monitor checks ListKeys on the destination account (azure-monitor/roles-permissions-security.md).
  { kind: "arm", on: "storage", actions: ["Microsoft.Storage/storageAccounts/listKeys/action"], roles: "Contributor or Owner" },
];
const CONSENT: Requirement = {
  kind: "entra-consent",
  roles: "Cloud Application Administrator, Application Administrator or Global Administrator",
};
/** Managing the vendor app's credentials: add, reveal, rotate or remove a client secret. */
export const APP_CREDENTIALS: Requirement = {
  kind: "entra-app",
  roles: "ownership of the app registration, or Cloud Application Administrator, Application Administrator or Global Administrator",
};

/** What running each step needs (Azure still decides at the call; this decides who may start it). */
export const STEP_REQUIREMENTS: Record<StepId, readonly Requirement[]> = {
  storage: [STORAGE_WRITE],
  "diagnostic-settings": DIAGNOSTIC_WRITE,
  "app-registration": [CONSENT],
  // Role definitions need write on every assignable scope; RBAC Administrator can't (azure-facts: custom-roles-rest.md).
  "custom-role": [
    { kind: "arm", on: "all", actions: ["Microsoft.Authorization/roleDefinitions/write"], roles: "Owner or User Access Administrator" },
  ],
  // Delete too: narrowing removes the portal's earlier subscription-wide assignments (the same three roles hold both).
  "role-assignments": [
    {
      kind: "arm",
      on: "all",
      actions: ["Microsoft.Authorization/roleAssignments/write", "Microsoft.Authorization/roleAssignments/delete"],
      roles: "Owner, User Access Administrator or Role Based Access Control Administrator",
    },
  ],
  "workbench-handoff": [APP_CREDENTIALS],
  verification: [APP_CREDENTIALS],
};

/** Removing what a run created: every kind of object it may have made, and the app. */
export const OFFBOARD_REQUIREMENTS: readonly Requirement[] = [
  {
    kind: "arm",
    on: "all",
    actions: ["Microsoft.Authorization/roleAssignments/delete", "Microsoft.Authorization/roleDefinitions/delete"],
    roles: "Owner or User Access Administrator",
  },
  {
    kind: "arm",
    on: "clusters",
    actions: ["Microsoft.Insights/diagnosticSettings/delete"],
    roles: "Monitoring Contributor, Contributor or Owner",
  },
  {
    kind: "arm",
    on: "storage",
    actions: ["Microsoft.Storage/storageAccounts/delete", "Microsoft.Resources/subscriptions/resourceGroups/delete"],
    roles: "Contributor or Owner",
  },
  APP_CREDENTIALS,
];
