// nextLink paging of ARM list responses, as the specs' x-ms-pageable lists answer: {value, nextLink}, nextLink absolute with a $skiptoken.
import type { SimResponse } from "../contract";
import type { ArmContext } from "./context";
import { armError, ok } from "./http";

export type PagedList = "subscriptions" | "managedClusters" | "storageAccounts" | "roleAssignments" | "policyAssignments";

/**
 * One page of `items` per the scenario's `paging` (none: everything, no nextLink). The $skiptoken is an opaque offset; the
 * nextLink repeats the request's other query parameters (api-version, $filter), as ARM's do.
 */
export function paged(ctx: ArmContext, list: PagedList, items: unknown[]): SimResponse {
  const paging = ctx.state.scenario.paging;
  const token = ctx.req.query.get("$skiptoken");
  if (!paging) return token === null ? ok({ value: items }) : badToken(token);
  const size = paging.byList[list] ?? paging.pageSize;
  let start = 0;
  if (token !== null) {
    const decoded = /^p(\d+)$/.exec(Buffer.from(token, "base64url").toString("utf8"));
    if (!decoded) return badToken(token);
    start = Number(decoded[1]);
  }
  const value = items.slice(start, start + size);
  if (start + size >= items.length) return ok({ value });
  const query = new URLSearchParams(ctx.req.query);
  query.set("$skiptoken", Buffer.from(`p${start + size}`, "utf8").toString("base64url"));
  return ok({ value, nextLink: `${ctx.state.baseUrl}${ctx.req.path}?${query.toString()}` });
}

// Approximation: ARM's exact code/text for a malformed $skiptoken is not documented.
function badToken(token: string): SimResponse {
  return armError(400, "InvalidSkipToken", `The skip token '${token}' is invalid.`);
}
