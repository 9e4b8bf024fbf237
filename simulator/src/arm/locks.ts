// Management locks (scenario-defined, read-only) and the ScopeLocked / ReadOnlyDisabledSubscription gates ARM applies before any provider.
import type { ArmResource, Scenario, SimResponse } from "../contract";
import type { SimState } from "../state";
import type { ArmContext } from "./context";
import { armError, checkApiVersion, methodNotAllowed, ok } from "./http";
import { authorize, scopeContains } from "./rbac";
import { clone, getSubscription } from "./world";

export const LOCK_TYPE = "Microsoft.Authorization/locks";

/** Management Locks api-versions (azure-rest-api-specs, resources/Microsoft.Authorization/locks). */
const LOCK_API_VERSIONS = ["2015-01-01", "2016-09-01", "2020-05-01"] as const;

/** A lock as Management Locks - Get By Scope returns it. */
export function lockResource(l: Scenario["locks"][number]): ArmResource {
  return {
    id: `${l.scope}/providers/Microsoft.Authorization/locks/${l.name}`,
    name: l.name,
    type: LOCK_TYPE,
    properties: { level: l.level, ...(l.notes ? { notes: l.notes } : {}) },
  };
}

const locks = (state: SimState) => [...state.arm.values()].filter((r) => r.type === LOCK_TYPE);
const lockScope = (r: ArmResource) => r.id.slice(0, r.id.toLowerCase().lastIndexOf("/providers/microsoft.authorization/locks/"));

/**
 * {scope}/providers/Microsoft.Authorization/locks[/{name}]: an unfiltered list holds the locks at, above and below the scope
 * (List At Subscription / Resource Group Level), `$filter=atScope()` those at and above (Management Locks - List By Scope).
 */
export function handleLocks(ctx: ArmContext, scope: string, name: string | undefined): SimResponse {
  const { state, caller, req } = ctx;
  const bad = checkApiVersion(req, LOCK_API_VERSIONS);
  if (bad) return bad;
  if (req.method !== "GET") return methodNotAllowed(req.method);
  const at = scope === "" ? "/" : scope;
  const denied = authorize(state, caller, "Microsoft.Authorization/locks/read", at);
  if (denied) return denied;
  if (name !== undefined) {
    const found = locks(state).find((l) => l.id.toLowerCase() === `${scope}/providers/Microsoft.Authorization/locks/${name}`.toLowerCase());
    return found ? ok(clone(found)) : armError(404, "LockNotFound", `The lock '${name}' could not be found.`);
  }
  const atScope = (req.query.get("$filter") ?? "").replace(/\s+/g, "").toLowerCase() === "atscope()";
  const value = locks(state).filter((l) => scopeContains(lockScope(l), at) || (!atScope && scopeContains(at, lockScope(l))));
  return ok({ value: value.map(clone) });
}

/**
 * What ARM answers before any provider sees a write: 409 ReadOnlyDisabledSubscription in a disabled subscription
 * (text: microsoft/vscode-azureappservice#912, #1646), 409 ScopeLocked for a DELETE at or under a lock, or any write
 * under a ReadOnly lock (text: Azure/azure-cli#20232, Azure/apiops#606; role assignment deletes included:
 * Azure/enterprise-azure-policy-as-code#933). Locks themselves are not managed through the simulator.
 */
export function writeGate(ctx: ArmContext, path: string): SimResponse | undefined {
  const { state, req, low } = ctx;
  const method = req.method.toUpperCase();
  if (method === "GET" || method === "HEAD" || low[0] !== "subscriptions") return undefined;
  const sub = getSubscription(state, ctx.seg[1] ?? "");
  if (sub?.properties.state === "Disabled")
    return armError(
      409,
      "ReadOnlyDisabledSubscription",
      `The subscription '${sub.name}' is disabled and therefore marked as read only. You cannot perform any write actions on this subscription until it is re-enabled.`,
    );
  if (low.includes("locks") || low[low.length - 1] === "checknameavailability") return undefined;
  const operation = method === "DELETE" ? "delete" : "write";
  // Deleting a scope deletes what is under it, so a lock below blocks it too (Azure/Mission-Critical-Online#147: "you wont be
  // able to delete the RG anyway if there is a resource in there with a lock").
  const blocking = locks(state).filter((l) =>
    operation === "delete"
      ? scopeContains(lockScope(l), path) || scopeContains(path, lockScope(l))
      : l.properties.level === "ReadOnly" && scopeContains(lockScope(l), path),
  );
  if (blocking.length === 0) return undefined;
  return armError(
    409,
    "ScopeLocked",
    `The scope '${path}' cannot perform ${operation} operation because following scope(s) are locked: '${blocking.map(lockScope).join("','")}'. Please remove the lock and try again.`,
  );
}
