// Shared Microsoft Graph helpers: error envelope, OData context, $select/$filter, delegated permission checks.
import { randomUUID } from "node:crypto";
import type { Caller, SimRequest, SimResponse } from "../contract";
import type { GraphObject, SimState } from "../state";

export const GRAPH_METADATA = "https://graph.microsoft.com/v1.0/$metadata";

/** Graph's error envelope, with the innerError block Graph always adds. */
export function graphError(status: number, code: string, message: string, details?: unknown[]): SimResponse {
  const date = new Date().toISOString().slice(0, 19);
  const requestId = randomUUID();
  return {
    status,
    body: {
      error: {
        code,
        message,
        ...(details ? { details } : {}),
        innerError: { date, "request-id": requestId, "client-request-id": requestId },
      },
    },
  };
}

export function insufficientPrivileges(): SimResponse {
  return graphError(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
}

export function resourceNotFound(id: string): SimResponse {
  return graphError(
    404,
    "Request_ResourceNotFound",
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );
}

const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Directory object ids are GUIDs; Graph refuses anything else before looking it up. */
export function invalidObjectId(key: { name?: string; value: string }): SimResponse | undefined {
  return OBJECT_ID.test(key.value) ? undefined : badRequest(`Invalid object identifier '${key.value}'.`);
}

export function badRequest(message: string): SimResponse {
  return graphError(400, "Request_BadRequest", message);
}

/** Applies $select (comma-separated top-level properties); unknown names are ignored like Graph does for nulls. */
export function select(req: SimRequest, obj: GraphObject): Record<string, unknown> {
  const sel = req.query.get("$select");
  const copy = JSON.parse(JSON.stringify(obj)) as Record<string, unknown>;
  if (!sel) return copy;
  const keys = sel
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const found = Object.keys(copy).find((c) => c.toLowerCase() === k.toLowerCase());
    if (found) out[found] = copy[found];
  }
  return out;
}

export function entity(req: SimRequest, set: string, obj: GraphObject, status = 200): SimResponse {
  const sel = req.query.get("$select");
  const context = sel ? `${GRAPH_METADATA}#${set}(${sel})/$entity` : `${GRAPH_METADATA}#${set}/$entity`;
  return { status, body: { "@odata.context": context, ...select(req, obj) } };
}

export function collection(req: SimRequest, set: string, items: GraphObject[]): SimResponse {
  const top = Number(req.query.get("$top") ?? "");
  const page = Number.isInteger(top) && top > 0 ? items.slice(0, top) : items;
  return { status: 200, body: { "@odata.context": `${GRAPH_METADATA}#${set}`, value: page.map((o) => select(req, o)) } };
}

/** Equality and startswith filters: `appId eq '…'`, `displayName eq '…'`, `startswith(displayName,'…')`, joined by `and`. */
export function applyFilter(req: SimRequest, items: GraphObject[]): GraphObject[] | SimResponse {
  const filter = req.query.get("$filter");
  if (!filter) return items;
  const clauses = filter.split(/\s+and\s+/i);
  const tests: ((o: GraphObject) => boolean)[] = [];
  for (const c of clauses) {
    const eqm = /^\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(c);
    const swm = /^\s*startswith\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\)\s*$/i.exec(c);
    // OData lambda on a string collection, as az sends it: servicePrincipalNames/any(c:c eq '…') (Graph docs,
    // "Use the $filter query parameter": any operator on multi-valued properties).
    const anym = /^\s*(\w+)\/any\(\s*(\w+)\s*:\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*\)\s*$/i.exec(c);
    if (anym && anym[2] === anym[3]) {
      const [, prop = "", , , raw = ""] = anym;
      const value = raw.replace(/''/g, "'").toLowerCase();
      tests.push((o) => Array.isArray(o[prop]) && (o[prop] as unknown[]).some((v) => String(v).toLowerCase() === value));
    } else if (eqm) {
      const [, prop = "", raw = ""] = eqm;
      const value = raw.replace(/''/g, "'").toLowerCase();
      tests.push((o) => String(o[prop] ?? "").toLowerCase() === value);
    } else if (swm) {
      const [, prop = "", raw = ""] = swm;
      const value = raw.replace(/''/g, "'").toLowerCase();
      tests.push((o) =>
        String(o[prop] ?? "")
          .toLowerCase()
          .startsWith(value),
      );
    } else {
      return badRequest(`Invalid filter clause: ${c.trim()}`);
    }
  }
  return items.filter((o) => tests.every((t) => t(o)));
}

/** Delegated scopes ("https://graph.microsoft.com/X" or "X") for users, application roles for apps. */
export function hasPermission(caller: Caller, any: readonly string[]): boolean {
  const granted = (caller.kind === "user" ? caller.scopes : caller.roles).map((s) => (s.split("/").pop() ?? s).toLowerCase());
  return any.some((p) => granted.includes(p.toLowerCase()));
}

export const APP_READ = [
  "Application.Read.All",
  "Application.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
  "Directory.AccessAsUser.All",
];
export const APP_WRITE = ["Application.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"];
export const ASSIGNMENT_WRITE = ["AppRoleAssignment.ReadWrite.All", "Directory.ReadWrite.All", "Directory.AccessAsUser.All"];

export function headerOf(req: SimRequest, name: string): string | undefined {
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() === want) return v;
  return undefined;
}

/** The directory roles of a scenario user or service principal (by object id). */
export function directoryRolesOf(state: SimState, objectId: string): string[] {
  const id = objectId.toLowerCase();
  const principal = [...state.scenario.users, ...state.scenario.servicePrincipals].find((p) => p.objectId.toLowerCase() === id);
  return principal?.directoryRoles ?? [];
}

// What the built-in roles allow on the objects the simulator serves, in Graph permission names (Microsoft Entra
// built-in roles reference, learn.microsoft.com/entra/identity/role-based-access-control/permissions-reference:
// Directory Readers has microsoft.directory/applications/standard/read and servicePrincipals/standard/read,
// the application administrators microsoft.directory/applications/allProperties/allTasks).
const ROLE_PERMISSIONS: Record<string, string[]> = {
  "directory readers": ["Directory.Read.All"],
  "application administrator": ["Application.ReadWrite.All"],
  "cloud application administrator": ["Application.ReadWrite.All"],
  "global administrator": ["Directory.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"],
};

/**
 * An app-only caller holds its application permissions and what its service principal's directory roles allow
 * (Entra roles can be assigned to service principals; an app-only token then acts with them).
 */
export function withDirectoryRoles(state: SimState, caller: Caller): Caller {
  if (caller.kind !== "app") return caller;
  const implied = directoryRolesOf(state, caller.objectId).flatMap((r) => ROLE_PERMISSIONS[r.toLowerCase()] ?? []);
  return implied.length ? { ...caller, roles: [...new Set([...caller.roles, ...implied])] } : caller;
}
