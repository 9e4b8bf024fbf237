// Users: /me, /users/{id|upn}, and /me/memberOf | transitiveMemberOf (directory roles: the portal decides who may act by them).
import type { Caller, SimRequest, SimResponse } from "../contract";
import type { GraphObject, SimState } from "../state";
import { nameUuid } from "../arm/http";
import { badRequest, collection, entity, hasPermission, insufficientPrivileges, resourceNotFound } from "./http";

const SELF_READ = [
  "User.Read",
  "User.ReadWrite",
  "User.ReadBasic.All",
  "User.Read.All",
  "User.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
  "Directory.AccessAsUser.All",
];
const OTHERS_READ = [
  "User.ReadBasic.All",
  "User.Read.All",
  "User.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
  "Directory.AccessAsUser.All",
];
const MEMBER_OF_READ = [
  "GroupMember.Read.All",
  "Group.Read.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
  "Directory.AccessAsUser.All",
  "RoleManagement.Read.Directory",
];
// The signed-in user's own memberships need only User.Read (learn.microsoft.com/graph/api/user-list-memberof and
// user-list-transitivememberof, "Permissions for the signed-in user's memberships"; microsoftgraph/msgraph-sdk-dotnet#778:
// a token with "scp": "openid profile User.Read email" returned all groups and directory roles).
const OWN_MEMBER_OF_READ = ["User.Read", ...MEMBER_OF_READ];

/** Role template ids of the Entra built-in directory roles (global, identical in every tenant). */
export const DIRECTORY_ROLE_TEMPLATES: Record<string, string> = {
  "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
  "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
  "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
  "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
  "Application Developer": "cf1c38e5-3621-4004-a7cb-879624dced7c",
  "Directory Writers": "9360feb5-f418-4baa-8175-e2a00bac4301",
  "Hybrid Identity Administrator": "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
  "Identity Governance Administrator": "45d8d3c5-c802-45c6-b32a-1d70b5e1e86e",
  "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
  "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
};

function findUser(state: SimState, key: string): GraphObject | undefined {
  const k = key.toLowerCase();
  return state.graph.users.find((u) => u.id.toLowerCase() === k || String(u.userPrincipalName).toLowerCase() === k);
}

/** /v1.0/me[/memberOf|/transitiveMemberOf[/microsoft.graph.directoryRole]] and /v1.0/users[/{id}] */
export function handleUsers(
  req: SimRequest,
  state: SimState,
  caller: Caller,
  me: boolean,
  key: string | undefined,
  rest: string[],
): SimResponse {
  if (req.method !== "GET") return badRequest("Specified HTTP method is not allowed for the request target.");
  if (me && caller.kind !== "user") return badRequest("/me request is only valid with delegated authentication flow.");
  const target = me ? findUser(state, caller.objectId) : key === undefined ? undefined : findUser(state, key);
  const self = !!target && target.id.toLowerCase() === caller.objectId.toLowerCase();
  if (!me && key === undefined) {
    if (!hasPermission(caller, OTHERS_READ)) return insufficientPrivileges();
    return collection(req, "users", state.graph.users);
  }
  if (!hasPermission(caller, self ? SELF_READ : OTHERS_READ)) return insufficientPrivileges();
  if (!target) return resourceNotFound(key ?? caller.objectId);
  if (rest.length === 0) return entity(req, "users", target);
  const relation = rest[0]?.toLowerCase();
  // A type cast segment keeps only that type (OData derived-type cast); the simulator's memberships are directory roles only.
  const cast = rest[1]?.toLowerCase();
  if (
    (relation === "memberof" || relation === "transitivememberof") &&
    (rest.length === 1 || (rest.length === 2 && cast === "microsoft.graph.directoryrole"))
  ) {
    if (!hasPermission(caller, self ? OWN_MEMBER_OF_READ : MEMBER_OF_READ)) return insufficientPrivileges();
    const roles = state.scenario.users.find((u) => u.objectId.toLowerCase() === target.id.toLowerCase())?.directoryRoles ?? [];
    const items = roles.map((name) => ({
      "@odata.type": "#microsoft.graph.directoryRole",
      id: nameUuid("directory-role", state.scenario.tenant.id, name),
      deletedDateTime: null,
      description: null,
      displayName: name,
      roleTemplateId: DIRECTORY_ROLE_TEMPLATES[name] ?? nameUuid("role-template", name),
    }));
    return collection(req, "directoryObjects", items);
  }
  return resourceNotFound(rest[0] ?? "");
}
