// Microsoft Graph v1.0 surface of the simulator: routing and audience check.
import type { SimRequest, SimResponse } from "../contract";
import type { Handler, SimState } from "../state";
import { handleApplications } from "./applications";
import { graphError, withDirectoryRoles } from "./http";
import { handleServicePrincipals } from "./service-principals";
import { handleUsers } from "./users";

export { seedGraph } from "./seed";

/** `applications(appId='…')` → { set, key: { name, value } }; `applications` → { set }. */
function parseSegment(segment: string): { set: string; key?: { name?: string; value: string } } {
  const m = /^([A-Za-z]+)\((?:([A-Za-z]+)=)?'((?:[^']|'')*)'\)$/.exec(segment);
  if (!m) return { set: segment };
  return { set: m[1] ?? "", key: { name: m[2], value: (m[3] ?? "").replace(/''/g, "'") } };
}

/** Answers Graph requests under /v1.0; undefined otherwise. */
export const handleGraph: Handler = (req: SimRequest, state: SimState): SimResponse | undefined => {
  const path = req.path.replace(/\/{2,}/g, "/").replace(/\/+$/, "");
  const seg = path.split("/").filter(Boolean).map(safeDecode);
  if (seg[0]?.toLowerCase() !== "v1.0") return undefined;
  const caller = withDirectoryRoles(state, req.caller);
  if (caller.audience !== "graph")
    return graphError(401, "InvalidAuthenticationToken", "Access token validation failure. Invalid audience.");
  const first = parseSegment(seg[1] ?? "");
  let key = first.key;
  let rest = seg.slice(2);
  if (!key && rest.length > 0 && !["me"].includes(first.set.toLowerCase())) {
    key = { value: rest[0] ?? "" };
    rest = rest.slice(1);
  }
  switch (first.set.toLowerCase()) {
    case "me":
      return handleUsers(req, state, caller, true, undefined, seg.slice(2));
    case "users":
      return handleUsers(req, state, caller, false, key?.value, rest);
    case "applications":
      return handleApplications(req, state, caller, key, rest);
    case "serviceprincipals":
      return handleServicePrincipals(req, state, caller, key, rest);
    default:
      return graphError(400, "BadRequest", `Resource not found for the segment '${first.set}'.`);
  }
};

/** decodeURIComponent that leaves malformed escapes as they are instead of throwing. */
function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
