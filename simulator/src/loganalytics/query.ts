// Log Analytics query API (api.loganalytics.io): POST /v1/workspaces/{workspaceId}/query for trivial queries only.
// Authorization as Azure applies it: a token for the Log Analytics API with Data.Read (app role or delegated scope),
// and Reader-level access (…/workspaces/query/read, covered by */read) over the workspace.
import crypto from "node:crypto";
import { z } from "zod";
import { isAllowed } from "../arm/rbac";
import { WORKSPACE_TYPE } from "../arm/workspaces";
import { verifyJwt } from "../identity/jwt";
import type { SigningKey } from "../identity/keys";
import { resourceOf } from "../identity/resources";
import type { RawRequest, RawResponse } from "../server";
import type { SimState } from "../state";

const ROUTE = /^\/v1\/workspaces\/([^/]+)\/query$/i;
const bodySchema = z.object({ query: z.string().min(1), timespan: z.string().optional(), workspaces: z.array(z.string()).optional() });

function error(status: number, code: string, message: string): RawResponse {
  return {
    status,
    headers: { "x-ms-request-id": crypto.randomUUID() },
    body: { error: { code, message, correlationId: crypto.randomUUID() } },
  };
}

type Table = { name: string; columns: { name: string; type: string }[]; rows: unknown[][] };

/** The result of the two queries the simulator understands; undefined for anything else. */
export function runTrivialQuery(query: string): Table | undefined {
  const q = query.trim().replace(/\s+/g, " ");
  const print = /^print ([A-Za-z_][A-Za-z0-9_]*) ?= ?(-?\d+)$/.exec(q);
  if (print?.[1] && print[2]) return { name: "PrimaryResult", columns: [{ name: print[1], type: "long" }], rows: [[Number(print[2])]] };
  if (/^AzureDiagnostics \| (take|limit) \d+$/i.test(q)) {
    // Nothing is ingested into simulated workspaces: the real table shape, no rows.
    return {
      name: "PrimaryResult",
      columns: [
        { name: "TenantId", type: "string" },
        { name: "TimeGenerated", type: "datetime" },
        { name: "ResourceId", type: "string" },
        { name: "Category", type: "string" },
        { name: "OperationName", type: "string" },
      ],
      rows: [],
    };
  }
  return undefined;
}

/** Answers /v1/… requests of the Log Analytics query API. */
export function handleLogAnalyticsQuery(req: RawRequest, state: SimState, key: SigningKey): RawResponse {
  const m = ROUTE.exec(req.path);
  if (!m?.[1]) return error(404, "PathNotFoundError", `The requested path does not exist: ${req.path}`);
  if (req.method !== "POST" && req.method !== "GET") return error(405, "MethodNotAllowed", `${req.method} is not supported.`);
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? "");
  if (!bearer?.[1]) return error(401, "AuthorizationRequiredError", "Valid authentication was not provided");
  const verified = verifyJwt(bearer[1], key);
  if (!verified.ok)
    return error(
      401,
      verified.reason === "expired" ? "TokenExpiredError" : "InvalidTokenError",
      "The provided authentication is not valid for this resource",
    );
  const c = verified.claims;
  if (resourceOf(typeof c.aud === "string" ? c.aud : "") !== "loganalytics" || c.tid !== state.scenario.tenant.id) {
    return error(401, "InvalidTokenError", "The provided authentication is not valid for this resource");
  }
  const roles = Array.isArray(c.roles) ? c.roles : [];
  const scp = typeof c.scp === "string" ? c.scp.split(" ") : [];
  if (!roles.includes("Data.Read") && !scp.includes("Data.Read")) {
    return error(403, "InsufficientAccessError", "The provided credentials have insufficient access to perform the requested operation");
  }
  const workspaceId = decodeURIComponent(m[1]).toLowerCase();
  const workspace = [...state.arm.values()].find(
    (r) => r.type === WORKSPACE_TYPE && String(r.properties.customerId).toLowerCase() === workspaceId,
  );
  const principal = typeof c.oid === "string" ? c.oid : "";
  // Azure doesn't tell "no such workspace" from "no access" to callers without access.
  if (!workspace || !isAllowed(state, principal, `${WORKSPACE_TYPE}/query/read`, workspace.id)) {
    return error(403, "InsufficientAccessError", "The provided credentials have insufficient access to perform the requested operation");
  }
  let raw: unknown;
  try {
    raw = req.method === "GET" ? { query: req.query.get("query") ?? "" } : JSON.parse(req.rawBody.toString("utf8") || "{}");
  } catch {
    return error(400, "BadArgumentError", "The request had some invalid properties");
  }
  const body = bodySchema.safeParse(raw);
  if (!body.success) return error(400, "BadArgumentError", "The request had some invalid properties");
  const table = runTrivialQuery(body.data.query);
  if (!table) return error(400, "BadArgumentError", "The simulator answers only `print name=<integer>` and `AzureDiagnostics | take N`.");
  return { status: 200, body: { tables: [table] } };
}
