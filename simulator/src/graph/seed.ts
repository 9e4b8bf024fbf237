// Directory content of a scenario: users and the first-party service principals every tenant has.
import { LOG_ANALYTICS_DATA_READ_ROLE_ID, WELL_KNOWN_APPS, type Scenario } from "../contract";
import type { GraphObject, SimState } from "../state";
import { nameUuid } from "../arm/http";
import { newApplication } from "./applications";

const MICROSOFT_SERVICES_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";

interface FirstParty {
  appId: string;
  displayName: string;
  servicePrincipalNames: string[];
  appRoles: { id: string; value: string; displayName: string; description: string }[];
  scopes: { id: string; value: string; adminConsentDisplayName: string; adminConsentDescription: string; type: "User" | "Admin" }[];
}

/** Real ids of the first-party apps' app roles and delegated scopes the portal touches. */
export const FIRST_PARTY: FirstParty[] = [
  {
    appId: WELL_KNOWN_APPS.logAnalyticsApi,
    displayName: "Log Analytics API",
    servicePrincipalNames: [WELL_KNOWN_APPS.logAnalyticsApi, "https://api.loganalytics.io"],
    appRoles: [
      {
        id: LOG_ANALYTICS_DATA_READ_ROLE_ID,
        value: "Data.Read",
        displayName: "Read Log Analytics data",
        description: "Allows the app to read log analytics data.",
      },
    ],
    scopes: [
      {
        id: "e8dac03d-d467-4a7e-9293-9cca7df08b31",
        value: "Data.Read",
        adminConsentDisplayName: "Read Log Analytics data as user",
        adminConsentDescription: "Read Log Analytics data as the signed-in user",
        type: "User",
      },
    ],
  },
  {
    appId: WELL_KNOWN_APPS.microsoftGraph,
    displayName: "Microsoft Graph",
    servicePrincipalNames: [WELL_KNOWN_APPS.microsoftGraph, "https://graph.microsoft.com", "https://graph.microsoft.com/"],
    appRoles: [
      {
        id: "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
        value: "Application.ReadWrite.All",
        displayName: "Read and write all applications",
        description: "Allows the app to create, read, update and delete applications and service principals without a signed-in user.",
      },
      {
        id: "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
        value: "Application.Read.All",
        displayName: "Read all applications",
        description: "Allows the app to read all applications and service principals without a signed-in user.",
      },
      {
        id: "06b708a9-e830-4db3-a914-8e69da51d44f",
        value: "AppRoleAssignment.ReadWrite.All",
        displayName: "Manage app permission grants and app role assignments",
        description: "Allows the app to manage permission grants for application permissions to any API.",
      },
      {
        id: "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
        value: "Directory.Read.All",
        displayName: "Read directory data",
        description: "Allows the app to read data in your organization's directory.",
      },
      {
        id: "df021288-bdef-4463-88db-98f22de89214",
        value: "User.Read.All",
        displayName: "Read all users' full profiles",
        description: "Allows the app to read user profiles without a signed in user.",
      },
    ],
    scopes: [
      {
        id: "e1fe6dd8-ba31-4d61-89e7-88639da4683d",
        value: "User.Read",
        adminConsentDisplayName: "Sign in and read user profile",
        adminConsentDescription: "Allows users to sign-in to the app, and allows the app to read the profile of signed-in users.",
        type: "User",
      },
      {
        id: "bdfbf15f-ee85-4955-8675-146e8e5296b5",
        value: "Application.ReadWrite.All",
        adminConsentDisplayName: "Read and write all applications",
        adminConsentDescription:
          "Allows the app to create, read, update and delete applications and service principals on behalf of the signed-in user.",
        type: "Admin",
      },
      {
        id: "c79f8feb-a9db-4090-85f9-90d820caa0eb",
        value: "Application.Read.All",
        adminConsentDisplayName: "Read applications",
        adminConsentDescription: "Allows the app to read applications and service principals on behalf of the signed-in user.",
        type: "Admin",
      },
      {
        id: "84bccea3-f856-4a8a-967b-dbe0a3d53a64",
        value: "AppRoleAssignment.ReadWrite.All",
        adminConsentDisplayName: "Manage app permission grants and app role assignments",
        adminConsentDescription:
          "Allows the app to manage permission grants for application permissions to any API on behalf of the signed-in user.",
        type: "Admin",
      },
      {
        id: "06da0dbc-49e2-44d2-8312-53f166ab848a",
        value: "Directory.Read.All",
        adminConsentDisplayName: "Read directory data",
        adminConsentDescription: "Allows the app to read data in your organization's directory on behalf of the signed-in user.",
        type: "Admin",
      },
    ],
  },
  {
    appId: WELL_KNOWN_APPS.azureServiceManagement,
    displayName: "Windows Azure Service Management API",
    servicePrincipalNames: [
      WELL_KNOWN_APPS.azureServiceManagement,
      "https://management.core.windows.net/",
      "https://management.azure.com/",
    ],
    appRoles: [],
    scopes: [
      {
        id: "41094075-9dad-400e-a0bd-54e686782033",
        value: "user_impersonation",
        adminConsentDisplayName: "Access Azure Service Management as organization users (preview)",
        adminConsentDescription: "Allows the application to access Azure Service Management as organization users.",
        type: "User",
      },
    ],
  },
];

/** A service principal object shaped like Graph v1.0 returns it. */
export function servicePrincipalObject(input: {
  id: string;
  appId: string;
  displayName: string;
  ownerTenant: string;
  servicePrincipalNames: string[];
  appRoles: unknown[];
  oauth2PermissionScopes: unknown[];
  signInAudience: string;
  createdDateTime: string;
  tags?: string[];
}): GraphObject {
  return {
    id: input.id,
    deletedDateTime: null,
    accountEnabled: true,
    alternativeNames: [],
    appDisplayName: input.displayName,
    appDescription: null,
    appId: input.appId,
    applicationTemplateId: null,
    appOwnerOrganizationId: input.ownerTenant,
    appRoleAssignmentRequired: false,
    // Not in the v1.0 schema (beta has it); the simulator uses it for Entra → ARM replication delays.
    createdDateTime: input.createdDateTime,
    description: null,
    disabledByMicrosoftStatus: null,
    displayName: input.displayName,
    homepage: null,
    loginUrl: null,
    logoutUrl: null,
    notes: null,
    notificationEmailAddresses: [],
    preferredSingleSignOnMode: null,
    preferredTokenSigningKeyThumbprint: null,
    replyUrls: [],
    servicePrincipalNames: input.servicePrincipalNames,
    servicePrincipalType: "Application",
    signInAudience: input.signInAudience,
    tags: input.tags ?? [],
    tokenEncryptionKeyId: null,
    samlSingleSignOnSettings: null,
    addIns: [],
    appRoles: input.appRoles,
    info: { logoUrl: null, marketingUrl: null, privacyStatementUrl: null, supportUrl: null, termsOfServiceUrl: null },
    keyCredentials: [],
    oauth2PermissionScopes: input.oauth2PermissionScopes,
    passwordCredentials: [],
    resourceSpecificApplicationPermissions: [],
    verifiedPublisher: { displayName: null, verifiedPublisherId: null, addedDateTime: null },
  };
}

export function firstPartyServicePrincipal(state: SimState, fp: FirstParty, createdDateTime: string): GraphObject {
  const tenantId = state.scenario.tenant.id;
  return servicePrincipalObject({
    id: nameUuid("first-party-sp", tenantId, fp.appId),
    appId: fp.appId,
    displayName: fp.displayName,
    ownerTenant: MICROSOFT_SERVICES_TENANT,
    servicePrincipalNames: fp.servicePrincipalNames,
    appRoles: fp.appRoles.map((r) => ({
      allowedMemberTypes: ["Application"],
      description: r.description,
      displayName: r.displayName,
      id: r.id,
      isEnabled: true,
      origin: "Application",
      value: r.value,
    })),
    oauth2PermissionScopes: fp.scopes.map((s) => ({
      adminConsentDescription: s.adminConsentDescription,
      adminConsentDisplayName: s.adminConsentDisplayName,
      id: s.id,
      isEnabled: true,
      type: s.type,
      userConsentDescription: s.type === "User" ? s.adminConsentDescription : null,
      userConsentDisplayName: s.type === "User" ? s.adminConsentDisplayName : null,
      value: s.value,
    })),
    signInAudience: "AzureADMultipleOrgs",
    createdDateTime,
  });
}

/** Users from the scenario plus the first-party service principals. */
export function seedGraph(state: SimState): void {
  const { scenario } = state;
  for (const u of scenario.users) {
    const [given, ...rest] = u.displayName.split(" ");
    state.graph.users.push({
      id: u.objectId,
      businessPhones: [],
      displayName: u.displayName,
      givenName: given ?? null,
      jobTitle: null,
      mail: u.upn,
      mobilePhone: null,
      officeLocation: null,
      preferredLanguage: "en-US",
      surname: rest.length ? rest.join(" ") : null,
      userPrincipalName: u.upn,
    });
  }
  for (const fp of FIRST_PARTY) {
    if (state.graph.servicePrincipals.some((s) => s.appId === fp.appId)) continue;
    state.graph.servicePrincipals.push(firstPartyServicePrincipal(state, fp, "2020-01-01T00:00:00Z"));
  }
  for (const sp of scenario.servicePrincipals) seedServicePrincipal(state, sp);
}

const SEEDED = "2025-01-01T00:00:00Z";

/**
 * A scenario's service principal: its application (with one password credential), its service principal, and its
 * Microsoft Graph application permissions as the app role assignments admin consent makes
 * (learn.microsoft.com/graph/permissions-grant-via-msgraph).
 */
function seedServicePrincipal(state: SimState, input: Scenario["servicePrincipals"][number]): void {
  const keyId = nameUuid("scenario-sp-secret", input.appId);
  const endDateTime = "2099-12-31T00:00:00Z";
  const app = newApplication(state, {}, input.displayName);
  Object.assign(app, {
    id: input.applicationObjectId,
    appId: input.appId,
    createdDateTime: SEEDED,
    passwordCredentials: [
      {
        customKeyIdentifier: null,
        displayName: "scenario",
        endDateTime,
        hint: input.secret.slice(0, 3),
        keyId,
        secretText: null,
        startDateTime: SEEDED,
      },
    ],
  });
  state.graph.applications.push(app);
  state.secrets.push({ appId: input.appId, keyId, secretText: input.secret, endDateTime });
  const sp = servicePrincipalObject({
    id: input.objectId,
    appId: input.appId,
    displayName: input.displayName,
    ownerTenant: state.scenario.tenant.id,
    servicePrincipalNames: [input.appId],
    appRoles: [],
    oauth2PermissionScopes: [],
    signInAudience: "AzureADMyOrg",
    createdDateTime: SEEDED,
  });
  state.graph.servicePrincipals.push(sp);
  const graph = state.graph.servicePrincipals.find((s) => s.appId === WELL_KNOWN_APPS.microsoftGraph);
  const graphRoles = (graph?.appRoles ?? []) as { id: string; value: string }[];
  for (const value of input.graphAppRoles) {
    const role = graphRoles.find((r) => r.value.toLowerCase() === value.toLowerCase());
    if (!graph || !role) throw new Error(`scenario: service principal ${input.displayName}: Microsoft Graph has no app role '${value}'`);
    state.graph.appRoleAssignments.push({
      id: nameUuid("scenario-sp-grant", input.objectId, role.id),
      deletedDateTime: null,
      appRoleId: role.id,
      createdDateTime: SEEDED,
      principalDisplayName: input.displayName,
      principalId: input.objectId,
      principalType: "ServicePrincipal",
      resourceDisplayName: String(graph.displayName),
      resourceId: graph.id,
    });
  }
}
