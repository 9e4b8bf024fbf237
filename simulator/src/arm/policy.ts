// Azure Policy: assignments (scenario-defined, read-only), built-in definitions, and deny evaluation of the writes ARM receives.
import type { ArmResource, Scenario, SimResponse } from "../contract";
import type { SimState } from "../state";
import type { ArmContext } from "./context";
import { armError, checkApiVersion, methodNotAllowed, nameUuid, ok } from "./http";
import { paged } from "./paging";
import { BUILTIN_POLICY_DEFINITIONS, findBuiltinPolicy, type PolicyCondition, type PolicyDefinition } from "./policy-definitions";
import { authorize, scopeContains } from "./rbac";
import { clone } from "./world";

export const POLICY_ASSIGNMENT_TYPE = "Microsoft.Authorization/policyAssignments";

/** Policy api-versions (azure-rest-api-specs, specification/resources/resource-manager/Microsoft.Authorization/policy). */
const POLICY_API_VERSIONS = [
  "2016-12-01",
  "2018-03-01",
  "2018-05-01",
  "2019-01-01",
  "2019-06-01",
  "2019-09-01",
  "2020-09-01",
  "2021-06-01",
  "2022-06-01",
  "2023-04-01",
  "2024-04-01",
  "2024-05-01",
  "2025-01-01",
  "2025-03-01",
] as const;

type ScenarioAssignment = Scenario["policyAssignments"][number];

/** A policy assignment as Policy Assignments - Get returns it. */
export function policyAssignmentResource(a: ScenarioAssignment, tenantId: string): ArmResource {
  const def = findBuiltinPolicy(a.policyDefinitionId);
  return {
    id: `${a.scope}/providers/Microsoft.Authorization/policyAssignments/${a.name}`,
    name: a.name,
    type: POLICY_ASSIGNMENT_TYPE,
    properties: {
      displayName: a.displayName ?? def?.properties.displayName ?? a.name,
      policyDefinitionId: a.policyDefinitionId,
      definitionVersion: def ? `${def.properties.version.split(".")[0] ?? "1"}.*.*` : undefined,
      scope: a.scope,
      notScopes: a.notScopes,
      parameters: a.parameters,
      ...(a.description ? { description: a.description } : {}),
      metadata: {
        assignedBy: "Platform team",
        createdBy: nameUuid("policy-assignment-author", tenantId),
        createdOn: "2025-01-01T00:00:00.0000000Z",
      },
      enforcementMode: a.enforcementMode,
      ...(a.nonComplianceMessage ? { nonComplianceMessages: [{ message: a.nonComplianceMessage }] } : {}),
    },
  };
}

function assignments(state: SimState): ArmResource[] {
  return [...state.arm.values()].filter((r) => r.type === POLICY_ASSIGNMENT_TYPE);
}

interface AssignmentProps {
  displayName: string;
  policyDefinitionId: string;
  scope: string;
  notScopes: string[];
  parameters: Record<string, { value: unknown }>;
  enforcementMode: "Default" | "DoNotEnforce";
  nonComplianceMessages?: { message: string }[];
}
const propsOf = (r: ArmResource) => r.properties as unknown as AssignmentProps;

/**
 * {scope}/providers/Microsoft.Authorization/policyAssignments[/{name}] at subscription or resource-group scope. An unfiltered
 * list includes assignments above, at and below the scope; `$filter=atScope()` only those at or above (Policy Assignments - List).
 */
export function handlePolicyAssignments(ctx: ArmContext, scope: string, name: string | undefined): SimResponse {
  const { state, caller, req } = ctx;
  const bad = checkApiVersion(req, POLICY_API_VERSIONS);
  if (bad) return bad;
  if (req.method !== "GET") return methodNotAllowed(req.method);
  const at = scope === "" ? "/" : scope;
  const denied = authorize(state, caller, "Microsoft.Authorization/policyAssignments/read", at);
  if (denied) return denied;
  if (name !== undefined) {
    const found = assignments(state).find(
      (a) => a.id.toLowerCase() === `${scope}/providers/Microsoft.Authorization/policyAssignments/${name}`.toLowerCase(),
    );
    return found ? ok(clone(found)) : armError(404, "PolicyAssignmentNotFound", `The policy assignment '${name}' is not found.`);
  }
  const filter = (req.query.get("$filter") ?? "").replace(/\s+/g, "").toLowerCase();
  const items = assignments(state).filter((a) => {
    const s = propsOf(a).scope;
    if (filter === "atscope()") return scopeContains(s, at);
    if (filter === "atexactscope()") return s.toLowerCase() === at.toLowerCase();
    return scopeContains(s, at) || scopeContains(at, s);
  });
  return paged(ctx, "policyAssignments", items.map(clone));
}

/**
 * GET /providers/Microsoft.Authorization/policyDefinitions[/{guid}]: built-ins are readable by any signed-in caller. A list
 * (tenant or subscription) holds the built-ins, as Policy Definitions - List / List Built In do (no custom definitions here).
 */
export function handlePolicyDefinitions(ctx: ArmContext, scope: string, name: string | undefined): SimResponse {
  const bad = checkApiVersion(ctx.req, POLICY_API_VERSIONS);
  if (bad) return bad;
  if (ctx.req.method !== "GET") return methodNotAllowed(ctx.req.method);
  const body = (def: PolicyDefinition) => ({ ...clone(def), properties: { ...clone(def.properties), versions: [def.properties.version] } });
  if (name === undefined) return ok({ value: BUILTIN_POLICY_DEFINITIONS.map(body) });
  const def = findBuiltinPolicy(name);
  if (!def || scope !== "") return armError(404, "PolicyDefinitionNotFound", `The policy definition '${name}' could not be found.`);
  return ok(body(def));
}

// ---- evaluation ----

/** The resource as the request would leave it: what ARM hands to policy evaluation. */
export interface EvaluatedResource {
  id: string;
  name: string;
  type: string;
  location?: string;
  kind?: string;
  tags?: Record<string, string>;
  properties?: Record<string, unknown>;
}

interface Expression {
  result: "True" | "False";
  expressionKind: "Field" | "Value";
  expression: string;
  path?: string;
  expressionValue?: unknown;
  targetValue: unknown;
  operator: string;
}

const OPERATORS = [
  "equals",
  "notEquals",
  "exists",
  "in",
  "notIn",
  "like",
  "notLike",
  "contains",
  "notContains",
  "containsKey",
  "notContainsKey",
] as const;

/** Evaluates ARM template-style expressions used in rules: parameters(), concat(), toLower(), field(). */
function evalExpr(value: unknown, params: Record<string, unknown>, resource: EvaluatedResource): unknown {
  if (typeof value !== "string" || !value.startsWith("[") || value.startsWith("[[") || !value.endsWith("]")) return value;
  const src = value.slice(1, -1);
  let i = 0;
  const skip = () => {
    while (src[i] === " ") i++;
  };
  const parse = (): unknown => {
    skip();
    if (src[i] === "'") {
      let out = "";
      i++;
      while (i < src.length) {
        if (src[i] === "'" && src[i + 1] === "'") {
          out += "'";
          i += 2;
        } else if (src[i] === "'") {
          i++;
          break;
        } else out += src[i++];
      }
      return out;
    }
    const m = /^[A-Za-z]+/.exec(src.slice(i));
    if (!m) throw new Error(`unsupported expression: ${value}`);
    const fn = m[0].toLowerCase();
    i += m[0].length;
    skip();
    const args: unknown[] = [];
    if (src[i] === "(") {
      i++;
      skip();
      while (src[i] !== ")") {
        args.push(parse());
        skip();
        if (src[i] === ",") i++;
      }
      i++;
    }
    switch (fn) {
      case "parameters":
        return params[String(args[0])];
      case "concat":
        return args.map((a) => (Array.isArray(a) ? a.join("") : String(a ?? ""))).join("");
      case "tolower":
        return String(args[0] ?? "").toLowerCase();
      case "field":
        return fieldValue(resource, String(args[0])).value;
      default:
        throw new Error(`unsupported function ${fn} in ${value}`);
    }
  };
  return parse();
}

/** A rule field (type, name, location, kind, tags[x], or a Provider/type/path alias) on the evaluated resource. */
function fieldValue(r: EvaluatedResource, field: string): { value: unknown; path: string } {
  const f = field.trim();
  const low = f.toLowerCase();
  if (low === "type" || low === "name" || low === "location" || low === "kind" || low === "id")
    return { value: (r as unknown as Record<string, unknown>)[low], path: low };
  const tag = /^tags(?:\[['"]?(.+?)['"]?\]|\.(.+))$/i.exec(f);
  if (tag) {
    const key = (tag[1] ?? tag[2] ?? "").toLowerCase();
    const hit = Object.entries(r.tags ?? {}).find(([k]) => k.toLowerCase() === key);
    return { value: hit?.[1], path: `tags.${tag[1] ?? tag[2] ?? ""}` };
  }
  if (low === "tags") return { value: r.tags, path: "tags" };
  // Aliases of the form {Namespace}/{type}/{property path} map to properties.{path} of that type (e.g. networkAcls.defaultAction).
  const prefix = `${r.type.toLowerCase()}/`;
  if (!low.startsWith(prefix)) return { value: undefined, path: f };
  const path = f.slice(prefix.length);
  let cur: unknown = r.properties;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return { value: undefined, path: `properties.${path}` };
    const entry = Object.entries(cur as Record<string, unknown>).find(([k]) => k.toLowerCase() === part.toLowerCase());
    cur = entry?.[1];
  }
  return { value: cur, path: `properties.${path}` };
}

const same = (a: unknown, b: unknown) =>
  typeof a === "string" && typeof b === "string" ? a.toLowerCase() === b.toLowerCase() : JSON.stringify(a) === JSON.stringify(b);

function likeMatch(value: unknown, pattern: unknown): boolean {
  if (typeof value !== "string" || typeof pattern !== "string") return false;
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
    "i",
  );
  return re.test(value);
}

/** Evaluates one `if` node; leaf conditions are recorded as Azure's evaluationDetails.evaluatedExpressions. */
function evaluate(node: PolicyCondition, params: Record<string, unknown>, r: EvaluatedResource, trail: Expression[]): boolean {
  if (Array.isArray(node.allOf)) return (node.allOf as PolicyCondition[]).every((n) => evaluate(n, params, r, trail));
  if (Array.isArray(node.anyOf)) return (node.anyOf as PolicyCondition[]).some((n) => evaluate(n, params, r, trail));
  if (node.not && typeof node.not === "object") return !evaluate(node.not as PolicyCondition, params, r, trail);
  const isField = "field" in node;
  const expression = String(evalExpr(isField ? node.field : node.value, params, r));
  const { value, path } = isField ? fieldValue(r, expression) : { value: evalExpr(node.value, params, r), path: undefined };
  const op = OPERATORS.find((o) => o in node);
  if (!op) throw new Error(`unsupported policy condition ${JSON.stringify(node)}`);
  const target = evalExpr(node[op], params, r);
  const list = Array.isArray(target) ? target : [target];
  let result: boolean;
  switch (op) {
    case "equals":
      result = same(value, target);
      break;
    case "notEquals":
      result = !same(value, target);
      break;
    case "exists":
      result = (value !== undefined && value !== null) === (String(target).toLowerCase() === "true");
      break;
    case "in":
      result = list.some((t) => same(value, t));
      break;
    case "notIn":
      result = !list.some((t) => same(value, t));
      break;
    case "like":
      result = likeMatch(value, target);
      break;
    case "notLike":
      result = !likeMatch(value, target);
      break;
    case "contains":
      result = typeof value === "string" && typeof target === "string" && value.toLowerCase().includes(target.toLowerCase());
      break;
    case "notContains":
      result = !(typeof value === "string" && typeof target === "string" && value.toLowerCase().includes(target.toLowerCase()));
      break;
    case "containsKey":
    case "notContainsKey": {
      const has = !!value && typeof value === "object" && Object.keys(value).some((k) => same(k, target));
      result = op === "containsKey" ? has : !has;
      break;
    }
  }
  trail.push({
    result: result ? "True" : "False",
    expressionKind: isField ? "Field" : "Value",
    expression,
    ...(path ? { path } : {}),
    ...(value !== undefined ? { expressionValue: value } : {}),
    targetValue: target,
    operator: op.charAt(0).toUpperCase() + op.slice(1),
  });
  return result;
}

/**
 * Mode Indexed evaluates only types that support tags and location (not resource groups, subscriptions or extension
 * resources); mode All evaluates every type, Microsoft.Resources types other than groups and subscriptions excepted.
 * Source: Learn "Azure Policy definition structure" (mode) and Azure/azure-policy#1044.
 */
function modeApplies(def: PolicyDefinition, r: EvaluatedResource): boolean {
  const type = r.type.toLowerCase();
  if (def.properties.mode === "Indexed") return !type.startsWith("microsoft.resources/") && r.location !== undefined;
  return (
    !type.startsWith("microsoft.resources/") ||
    type === "microsoft.resources/subscriptions/resourcegroups" ||
    type === "microsoft.resources/subscriptions"
  );
}

/**
 * 403 RequestDisallowedByPolicy when an enforced deny assignment covering the resource matches it, else undefined. Message and
 * additionalInfo follow Learn "Resolve errors for request disallowed by policy" (Policy identifiers, name = display name) and
 * the PolicyViolation info ARM attaches (policy definition and assignment ids, names, display names, evaluationDetails).
 */
export function denyByPolicy(state: SimState, r: EvaluatedResource): SimResponse | undefined {
  const violations: { a: ArmResource; p: AssignmentProps; def: PolicyDefinition; effect: string; trail: Expression[] }[] = [];
  for (const a of assignments(state)) {
    const p = propsOf(a);
    if (p.enforcementMode === "DoNotEnforce") continue;
    if (!scopeContains(p.scope, r.id) || p.notScopes.some((n) => scopeContains(n, r.id))) continue;
    const def = findBuiltinPolicy(p.policyDefinitionId);
    if (!def || !modeApplies(def, r)) continue;
    const params: Record<string, unknown> = {};
    for (const [k, d] of Object.entries(def.properties.parameters)) params[k] = p.parameters[k]?.value ?? d.defaultValue;
    const effect = String(evalExpr(def.properties.policyRule.then.effect, params, r));
    if (effect.toLowerCase() !== "deny") continue;
    const trail: Expression[] = [];
    if (evaluate(def.properties.policyRule.if, params, r, trail)) violations.push({ a, p, def, effect, trail });
  }
  if (violations.length === 0) return undefined;
  const identifiers = violations.map((v) => ({
    policyAssignment: { name: v.p.displayName, id: v.a.id },
    policyDefinition: { name: v.def.properties.displayName, id: v.def.id },
  }));
  // With non-compliance messages ARM gives the reasons instead (hashicorp/terraform-provider-azurerm#25614); how it joins
  // several is not documented (approximation: quoted, comma-separated).
  const reasons = violations.flatMap((v) => v.p.nonComplianceMessages?.map((m) => m.message) ?? []);
  const message =
    reasons.length > 0
      ? `Resource '${r.name}' was disallowed by policy. Reasons: '${reasons.join("','")}'. See error details for policy resource IDs.`
      : `Resource '${r.name}' was disallowed by policy. Policy identifiers: '${JSON.stringify(identifiers)}'.`;
  return {
    status: 403,
    body: {
      error: {
        code: "RequestDisallowedByPolicy",
        target: r.name,
        message,
        additionalInfo: violations.map((v) => ({
          type: "PolicyViolation",
          info: {
            evaluationDetails: { evaluatedExpressions: v.trail },
            policyDefinitionId: v.def.id,
            policyDefinitionName: v.def.name,
            policyDefinitionDisplayName: v.def.properties.displayName,
            policyDefinitionVersion: v.def.properties.version,
            policyDefinitionEffect: v.effect,
            policyAssignmentId: v.a.id,
            policyAssignmentName: v.a.name,
            policyAssignmentDisplayName: v.p.displayName,
            policyAssignmentScope: v.p.scope,
            policyAssignmentParameters: v.p.parameters,
            policyExemptionIds: [],
            policyEnrollmentIds: [],
          },
        })),
      },
    },
  };
}
