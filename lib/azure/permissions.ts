// Azure RBAC action matching, for reading what a role lets its holder do.
import "server-only";

function toRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*");
  return new RegExp(`^${escaped}$`, "i");
}

/** Whether a role's actions/notActions allow `action` (Azure matches case-insensitively, `*` anywhere). */
export function allowsAction(role: { actions: string[]; notActions: string[] }, action: string): boolean {
  const granted = role.actions.some((a) => toRegExp(a).test(action));
  const denied = role.notActions.some((a) => toRegExp(a).test(action));
  return granted && !denied;
}

/** Whether a role assignment at `scope` applies to `target` (same scope or an ancestor). */
export function scopeCovers(scope: string, target: string): boolean {
  const s = scope.toLowerCase().replace(/\/+$/, "");
  const t = target.toLowerCase();
  return s === "" || s.startsWith("/providers/microsoft.management/managementgroups/") || t === s || t.startsWith(`${s}/`);
}
