// Tags that deny policies require where the portal creates things (resource group, storage accounts): the form pre-fills them.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { mapBounded } from "@/lib/concurrency";
import {
  getPolicyDefinition,
  getPolicySetDefinition,
  listPolicyAssignments,
  type PolicyAssignment,
  type PolicyDefinition,
  type PolicySetDefinition,
} from "@/lib/azure/list-policy-assignments";

/** A tag a policy requires on what the portal creates. */
export interface RequiredTag {
  name: string;
  /** Set when the policy fixes the value ("Require a tag and its value"). */
  value?: string;
  /** Display names (else names) of the assignments that require it. */
  assignments: string[];
  on: ("resource groups" | "resources")[];
}

/** What the form shows: the tags, and where policies couldn't be read (best-effort, never blocking). */
export interface RequiredTagsResult {
  tags: RequiredTag[];
  notes: string[];
}

/** Where the portal will create things: a resource group in a subscription (the storage accounts go inside it). */
export interface CreationTarget {
  subscriptionId: string;
  subscriptionName: string;
  resourceGroup: string;
}

/** A recognised required-tag rule: which parameter (or literal) names the tag and value, and what it applies to. */
interface TagRule {
  tag: { param: string } | { literal: string };
  value?: { param: string } | { literal: string };
  on: RequiredTag["on"];
}

// Built-ins (Azure/azure-policy, built-in-policies/policyDefinitions/Tags/*_Deny.json): always deny, parameters tagName/tagValue.
const BUILT_IN_TAG_RULES: Record<string, TagRule> = {
  "96670d01-0a4d-4649-9c89-2d3abc0a5025": { tag: { param: "tagName" }, on: ["resource groups"] }, // Require a tag on resource groups
  "8ce3da23-7156-49e4-b145-24f95f9dcb46": { tag: { param: "tagName" }, value: { param: "tagValue" }, on: ["resource groups"] }, // … and its value on resource groups
  "871b6d14-10aa-478d-b590-94f262ecfa99": { tag: { param: "tagName" }, on: ["resources"] }, // Require a tag on resources
  "1e30110a-5ceb-460c-a204-c1c3969c6d62": { tag: { param: "tagName" }, value: { param: "tagValue" }, on: ["resources"] }, // … and its value on resources
};

const RESOURCE_GROUP_TYPE = "microsoft.resources/subscriptions/resourcegroups";
const STORAGE_TYPE = "microsoft.storage/storageaccounts";
const DEFINITION_READS = 4;

const lastSegment = (id: string) => id.split("/").pop()?.toLowerCase() ?? "";

/** `[concat('tags[', parameters('tagName'), ']')]`, `tags[costCenter]`, `tags['costCenter']`, `tags.costCenter` → the tag reference. */
function tagFieldRef(field: unknown): TagRule["tag"] | undefined {
  if (typeof field !== "string") return undefined;
  const param = /^\[concat\('tags\[',\s*parameters\('([^']+)'\),\s*'\]'\)\]$/i.exec(field.trim())?.[1];
  if (param) return { param };
  const literal = /^tags(?:\[['"]?([^\]'"]+)['"]?\]|\.([\w-]+))$/i.exec(field.trim());
  const name = literal?.[1] ?? literal?.[2];
  return name ? { literal: name } : undefined;
}

function valueRef(v: unknown): TagRule["value"] | undefined {
  if (typeof v !== "string") return undefined;
  const param = /^\[parameters\('([^']+)'\)\]$/i.exec(v.trim())?.[1];
  return param ? { param } : { literal: v };
}

type Condition = Record<string, unknown>;
const asCondition = (v: unknown): Condition | undefined =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Condition) : undefined;

/** A custom definition whose rule has the built-ins' shape: (type is X and) tags[x] doesn't exist (or ≠ value) → deny. */
export function customTagRule(definition: Pick<PolicyDefinition, "policyRule" | "mode">): (TagRule & { effect: unknown }) | undefined {
  const rule = asCondition(definition.policyRule);
  const cond = asCondition(rule?.if);
  const effect = asCondition(rule?.then)?.effect;
  if (!cond) return undefined;
  const parts = Array.isArray(cond.allOf) ? cond.allOf.map(asCondition) : [cond];
  if (parts.some((p) => !p)) return undefined;
  let tag: TagRule["tag"] | undefined;
  let value: TagRule["value"] | undefined;
  let type: string | undefined;
  for (const p of parts as Condition[]) {
    const negated = asCondition(p.not);
    if (p.field === "type" && typeof p.equals === "string") type = p.equals.toLowerCase();
    else if (tagFieldRef(p.field) && String(p.exists).toLowerCase() === "false") tag = tagFieldRef(p.field);
    else if (tagFieldRef(p.field) && p.notEquals !== undefined) [tag, value] = [tagFieldRef(p.field), valueRef(p.notEquals)];
    else if (negated && tagFieldRef(negated.field) && negated.equals !== undefined)
      [tag, value] = [tagFieldRef(negated.field), valueRef(negated.equals)];
    // Any other condition narrows the rule in ways not modelled here: not pre-filled (the deny, if it comes, is told in words).
    else return undefined;
  }
  if (!tag) return undefined;
  const on: RequiredTag["on"] =
    type === RESOURCE_GROUP_TYPE
      ? ["resource groups"]
      : type === STORAGE_TYPE
        ? ["resources"]
        : type
          ? []
          : definition.mode?.toLowerCase() === "all"
            ? ["resource groups", "resources"]
            : ["resources"];
  if (on.length === 0) return undefined;
  return { tag, ...(value ? { value } : {}), on, effect };
}

/** Whether an assignment reaches `targetId` (a resource group id): its scope contains it and no notScope does. */
export function assignmentCovers(a: Pick<PolicyAssignment, "scope" | "notScopes">, targetId: string): boolean {
  const target = targetId.toLowerCase();
  const within = (scope: string) => {
    const s = scope.toLowerCase().replace(/\/+$/, "");
    return target === s || target.startsWith(`${s}/`);
  };
  // A management-group scope came back for this subscription's listing, so it contains the subscription; management-group
  // notScopes can't be placed without reading the hierarchy and are not applied (pre-filling one tag too many is harmless).
  const isManagementGroup = (s: string) => s.toLowerCase().startsWith("/providers/microsoft.management/managementgroups/");
  if (!isManagementGroup(a.scope) && !within(a.scope)) return false;
  return !a.notScopes.some((n) => !isManagementGroup(n) && within(n));
}

function resolve(ref: TagRule["tag"] | undefined, a: PolicyAssignment, defaults: Record<string, unknown>): string | undefined {
  if (!ref) return undefined;
  if ("literal" in ref) return ref.literal;
  const v = a.parameters[ref.param] ?? defaults[ref.param];
  return typeof v === "string" && v.trim() !== "" ? v : undefined;
}

const isSet = (definitionId: string) => /\/policySetDefinitions\//i.test(definitionId);

/**
 * An initiative's assignment as one assignment per member definition, each with the parameter values the initiative
 * passes it (`[parameters('x')]` resolved from the assignment, else the initiative's default). Sets not in `sets` drop out.
 */
export function expandInitiatives(
  assignments: readonly PolicyAssignment[],
  sets: ReadonlyMap<string, PolicySetDefinition>,
): PolicyAssignment[] {
  return assignments.flatMap((a) => {
    if (!isSet(a.policyDefinitionId)) return [a];
    const set = sets.get(a.policyDefinitionId.toLowerCase());
    if (!set) return [];
    return set.members.map((m) => ({
      ...a,
      policyDefinitionId: m.policyDefinitionId,
      parameters: Object.fromEntries(
        Object.entries(m.parameters).map(([k, v]) => {
          const ref = valueRef(v);
          return [k, ref && "param" in ref ? (a.parameters[ref.param] ?? set.parameterDefaults[ref.param]) : v];
        }),
      ),
    }));
  });
}

/** The required tags among `assignments` for `targets`: enforced, covering a target, a recognised required-tag rule. */
export function requiredTagsFrom(
  assignments: readonly PolicyAssignment[],
  definitions: ReadonlyMap<string, PolicyDefinition>,
  targets: readonly CreationTarget[],
): RequiredTag[] {
  const byName = new Map<string, RequiredTag>();
  const targetIds = targets.map((t) => `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}`);
  for (const a of assignments) {
    if (a.enforcementMode.toLowerCase() !== "default") continue;
    if (!targetIds.some((id) => assignmentCovers(a, id))) continue;
    const builtIn = BUILT_IN_TAG_RULES[lastSegment(a.policyDefinitionId)];
    const definition = definitions.get(a.policyDefinitionId.toLowerCase());
    const defaults = definition?.parameterDefaults ?? {};
    let rule: TagRule | undefined = builtIn;
    if (!rule && definition) {
      const custom = customTagRule(definition);
      const effectRef = valueRef(custom?.effect);
      const effect = effectRef && "param" in effectRef ? (a.parameters[effectRef.param] ?? defaults[effectRef.param]) : custom?.effect;
      if (custom && typeof effect === "string" && effect.toLowerCase() === "deny") rule = custom;
    }
    if (!rule) continue;
    const name = resolve(rule.tag, a, defaults);
    if (!name) continue;
    const value = resolve(rule.value, a, defaults);
    const label = a.displayName || a.name;
    const known = byName.get(name.toLowerCase());
    if (known) {
      if (!known.assignments.includes(label)) known.assignments.push(label);
      for (const o of rule.on) if (!known.on.includes(o)) known.on.push(o);
      if (value !== undefined && known.value === undefined) known.value = value;
    } else {
      byName.set(name.toLowerCase(), { name, ...(value !== undefined ? { value } : {}), assignments: [label], on: [...rule.on] });
    }
  }
  return [...byName.values()].sort((x, y) => x.name.localeCompare(y.name));
}

/**
 * Read the assignments of each target's subscription (and the initiatives and custom definitions they use) and return the tags they
 * require. Best-effort: a subscription whose policies can't be read becomes a note, never an error.
 */
export async function loadRequiredTags(credential: TokenCredential, targets: readonly CreationTarget[]): Promise<RequiredTagsResult> {
  const subscriptions = [...new Map(targets.map((t) => [t.subscriptionId.toLowerCase(), t])).values()];
  const notes: string[] = [];
  const assignments = (
    await Promise.all(
      subscriptions.map(async (t) => {
        try {
          return await listPolicyAssignments(credential, t.subscriptionId);
        } catch {
          notes.push(
            `Couldn't read the Azure Policy assignments of ${t.subscriptionName}, so tags its policies require aren't pre-filled.`,
          );
          return [];
        }
      }),
    )
  ).flat();
  // Only what can deny here is worth a definition read: enforced, and reaching a resource group the portal creates.
  const groupIds = targets.map((t) => `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}`);
  const enforced = assignments.filter(
    (a) => a.enforcementMode.toLowerCase() === "default" && groupIds.some((id) => assignmentCovers(a, id)),
  );
  const readFrom = subscriptions[0]?.subscriptionId;
  // Initiatives first (their members may be custom definitions), then custom definitions; built-ins are known by name.
  const sets = await readEach(
    enforced.filter((a) => isSet(a.policyDefinitionId)).map((a) => a.policyDefinitionId),
    (id) => getPolicySetDefinition(credential, readFrom ?? "", id),
  );
  const expanded = expandInitiatives(enforced, sets);
  const definitions = await readEach(
    expanded.map((a) => a.policyDefinitionId).filter((id) => !BUILT_IN_TAG_RULES[lastSegment(id)] && !isSet(id)),
    (id) => getPolicyDefinition(credential, readFrom ?? "", id),
  );
  return { tags: requiredTagsFrom(expanded, definitions, targets), notes };
}

/** Each distinct id read once (bounded); one that can't be read is left out: not pre-filled, and a denial still names it. */
async function readEach<T>(ids: readonly string[], read: (id: string) => Promise<T>): Promise<Map<string, T>> {
  const distinct = new Map(ids.map((id) => [id.toLowerCase(), id]));
  const out = new Map<string, T>();
  await mapBounded([...distinct], DEFINITION_READS, async ([key, id]) => {
    try {
      out.set(key, await read(id));
    } catch {
      // Not readable (permissions, a definition deleted since): this assignment simply isn't pre-filled.
    }
  });
  return out;
}

/** loadRequiredTags for the given storage subscriptions (named from `subscriptions`), all with the same resource group. */
export function requiredTagsWhereCreated(
  credential: TokenCredential,
  subscriptionIds: readonly (string | undefined)[],
  subscriptions: readonly { id: string; displayName: string }[],
  resourceGroup: string,
): Promise<RequiredTagsResult> {
  const names = new Map(subscriptions.map((s) => [s.id.toLowerCase(), s.displayName]));
  const targets = subscriptionIds.flatMap((id) =>
    id ? [{ subscriptionId: id, subscriptionName: names.get(id.toLowerCase()) ?? id, resourceGroup }] : [],
  );
  return loadRequiredTags(credential, targets);
}
