// Reads a RequestDisallowedByPolicy answer (which assignment, which definition, with what parameters) and words it.
//
// Shape (Microsoft Learn, "Resolve errors for request disallowed by policy"; a real storage-account answer quoted in
// Azure/AKS#3644's research): 403 {"error":{"code":"RequestDisallowedByPolicy","message":"Resource 'x' was disallowed by
// policy. Policy identifiers: '[{"policyAssignment":{"name":…,"id":…},"policyDefinition":{"name":…,"id":…}}]'.",
// "additionalInfo":[{"type":"PolicyViolation","info":{"policyAssignmentDisplayName":…,"policyAssignmentParameters":
// {"tagName":{"value":…}},"policyDefinitionDisplayName":…,"evaluationDetails":{"evaluatedExpressions":[…]},…}}]}}.
import "server-only";
import { z } from "zod";

/** One policy that denied a request, as far as the answer tells. */
export interface PolicyViolation {
  /** The assignment's display name, else its name (the last segment of its id). */
  assignment: string;
  assignmentId?: string;
  /** The definition's display name when Azure sent it. */
  definition?: string;
  /** The definition's name: a GUID for built-ins. */
  definitionName?: string;
  /** The assignment's parameter values (tagName, listOfAllowedLocations, minimumTlsVersion…). */
  parameters: Record<string, unknown>;
  /** The field paths Azure evaluated (tags[costCenter], properties.networkAcls.defaultAction…). */
  paths: string[];
}

/** What a denied policy demands, as far as the portal can act on it. */
export type PolicyDemand =
  | { kind: "tag"; tag: string; value?: string; on: "resource groups" | "resources" }
  | { kind: "locations"; allowed: string[] }
  | { kind: "restrict-network" }
  | { kind: "disable-public-network" }
  | { kind: "minimum-tls"; version?: string }
  | { kind: "shared-key" }
  | { kind: "other" };

const violationInfoSchema = z.object({
  policyAssignmentDisplayName: z.string().nullish(),
  policyAssignmentName: z.string().nullish(),
  policyAssignmentId: z.string().nullish(),
  policyDefinitionDisplayName: z.string().nullish(),
  policyDefinitionName: z.string().nullish(),
  policyDefinitionId: z.string().nullish(),
  policyAssignmentParameters: z.record(z.string(), z.unknown()).nullish(),
  evaluationDetails: z
    .object({
      evaluatedExpressions: z.array(z.object({ path: z.string().nullish(), expression: z.string().nullish() }).passthrough()).nullish(),
    })
    .passthrough()
    .nullish(),
});

const envelopeSchema = z.object({
  error: z.object({
    code: z.string().optional(),
    message: z.string().optional(),
    additionalInfo: z.array(z.object({ type: z.string().optional(), info: z.unknown() })).nullish(),
  }),
});

const identifierSchema = z.array(
  z.object({
    policyAssignment: z.object({ name: z.string().optional(), id: z.string().optional() }).optional(),
    policyDefinition: z.object({ name: z.string().optional(), id: z.string().optional() }).optional(),
  }),
);

const lastSegment = (id: string | null | undefined) => (id ? (id.split("/").pop() ?? undefined) : undefined);

/** Parameter values of an assignment: `{ tagName: { value: "x" } }` → `{ tagName: "x" }`. */
function parameterValues(raw: Record<string, unknown> | null | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw ?? {}))
    out[k] = typeof v === "object" && v !== null && "value" in v ? (v as { value: unknown }).value : v;
  return out;
}

/** The violations in `additionalInfo` of an ARM error body (object or JSON text); empty when there are none. */
function fromAdditionalInfo(body: unknown): PolicyViolation[] {
  let value = body;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value) as unknown;
    } catch {
      return [];
    }
  }
  const parsed = envelopeSchema.safeParse(value);
  if (!parsed.success) return [];
  const out: PolicyViolation[] = [];
  for (const entry of parsed.data.error.additionalInfo ?? []) {
    if (entry.type?.toLowerCase() !== "policyviolation") continue;
    const info = violationInfoSchema.safeParse(entry.info);
    if (!info.success) continue;
    const i = info.data;
    const assignment = i.policyAssignmentDisplayName || i.policyAssignmentName || lastSegment(i.policyAssignmentId);
    if (!assignment) continue;
    out.push({
      assignment,
      ...(i.policyAssignmentId ? { assignmentId: i.policyAssignmentId } : {}),
      ...(i.policyDefinitionDisplayName ? { definition: i.policyDefinitionDisplayName } : {}),
      ...(i.policyDefinitionName || i.policyDefinitionId
        ? { definitionName: i.policyDefinitionName || lastSegment(i.policyDefinitionId) }
        : {}),
      parameters: parameterValues(i.policyAssignmentParameters),
      paths: (i.evaluationDetails?.evaluatedExpressions ?? []).flatMap((e) =>
        [e.path, e.expression].filter((p): p is string => typeof p === "string"),
      ),
    });
  }
  return out;
}

/** The violations named in the message's "Policy identifiers: '[…]'" (its `name` is the assignment's display name). */
function fromMessage(message: string): PolicyViolation[] {
  const json = /Policy identifiers?(?:\(s\))?: '(\[.*\])'/s.exec(message)?.[1];
  if (!json) return [];
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return [];
  }
  const parsed = identifierSchema.safeParse(value);
  if (!parsed.success) return [];
  return parsed.data.flatMap((p) => {
    const assignment = p.policyAssignment?.name || lastSegment(p.policyAssignment?.id);
    if (!assignment) return [];
    const definitionName = lastSegment(p.policyDefinition?.id);
    return [
      {
        assignment,
        ...(p.policyAssignment?.id ? { assignmentId: p.policyAssignment.id } : {}),
        ...(p.policyDefinition?.name ? { definition: p.policyDefinition.name } : {}),
        ...(definitionName ? { definitionName } : {}),
        parameters: {},
        paths: [],
      },
    ];
  });
}

/** Every PolicyViolation a thrown SDK/REST error carries: additionalInfo first, else the message's identifiers. */
export function policyViolationsOf(error: unknown, message: string): PolicyViolation[] {
  const e = (typeof error === "object" && error !== null ? error : {}) as {
    response?: { bodyAsText?: unknown; parsedBody?: unknown };
    body?: unknown;
    details?: unknown;
  };
  for (const candidate of [e.response?.bodyAsText, e.response?.parsedBody, e.body, e.details]) {
    const found = fromAdditionalInfo(candidate);
    if (found.length > 0) return found;
  }
  return fromMessage(message);
}

// Built-in definitions (Azure/azure-policy, built-in-policies/policyDefinitions): name → what it demands.
const TAG_RG = ["96670d01-0a4d-4649-9c89-2d3abc0a5025", "8ce3da23-7156-49e4-b145-24f95f9dcb46"]; // Require a tag (and its value) on resource groups
const TAG_RESOURCES = ["871b6d14-10aa-478d-b590-94f262ecfa99", "1e30110a-5ceb-460c-a204-c1c3969c6d62"]; // … on resources
const ALLOWED_LOCATIONS = ["e56962a6-4747-49cd-b67b-bf8b01975c4c", "e765b5de-1225-4ba3-bd56-1ac6695af988"]; // Allowed locations (for resource groups)
const RESTRICT_NETWORK = "34c877ad-507e-4c82-993e-3452a6e0ad3c"; // Storage accounts should restrict network access
const DISABLE_PUBLIC_NETWORK = "b2982f36-99f2-4db5-8eff-283140c09693"; // Storage accounts should disable public network access
const MINIMUM_TLS = "fe83a0eb-a853-422d-aac2-1bffd182c5d0"; // Storage accounts should have the specified minimum TLS version
const SHARED_KEY = "8c6a50c6-9ffd-4ae7-986f-5fa6111f9a54"; // Storage accounts should prevent shared key access

const TAG_PATH = /tags\[['"]?([^\]'"]+)['"]?\]/i;

/** What one violation demands: from a known built-in's name, else its parameters, evaluated paths and display name. */
export function demandOf(v: PolicyViolation): PolicyDemand {
  const id = v.definitionName?.toLowerCase() ?? "";
  const title = `${v.definition ?? ""} ${v.assignment}`.toLowerCase();
  const str = (k: string) => (typeof v.parameters[k] === "string" ? (v.parameters[k] as string) : undefined);
  const tag = str("tagName") ?? v.paths.map((p) => TAG_PATH.exec(p)?.[1]).find((t): t is string => Boolean(t));
  const onRg = TAG_RG.includes(id) || /resource groups?/.test(title);
  if (TAG_RG.includes(id) || TAG_RESOURCES.includes(id) || (tag && /\btag/.test(title))) {
    if (tag)
      return { kind: "tag", tag, ...(str("tagValue") ? { value: str("tagValue") } : {}), on: onRg ? "resource groups" : "resources" };
  }
  const locations = v.parameters.listOfAllowedLocations;
  if (ALLOWED_LOCATIONS.includes(id) || Array.isArray(locations) || /allowed locations/.test(title)) {
    return { kind: "locations", allowed: Array.isArray(locations) ? locations.filter((l): l is string => typeof l === "string") : [] };
  }
  if (id === DISABLE_PUBLIC_NETWORK || /disable public network access/.test(title)) return { kind: "disable-public-network" };
  if (id === RESTRICT_NETWORK || /restrict network access/.test(title) || v.paths.some((p) => /networkAcls\.defaultAction/i.test(p)))
    return { kind: "restrict-network" };
  if (id === MINIMUM_TLS || /minimum tls/.test(title) || v.paths.some((p) => /minimumTlsVersion/i.test(p))) {
    const version = str("minimumTlsVersion");
    return { kind: "minimum-tls", ...(version ? { version } : {}) };
  }
  if (id === SHARED_KEY || /shared key/.test(title) || v.paths.some((p) => /allowSharedKeyAccess/i.test(p))) return { kind: "shared-key" };
  return { kind: "other" };
}

const EXEMPTION = "ask someone with Resource Policy Contributor or Owner on the scope for a policy exemption";

/** One sentence per violation: which assignment, what it demands, what to change in the portal. */
export function describeViolation(v: PolicyViolation): string {
  const d = demandOf(v);
  const who = `Azure Policy assignment '${v.assignment}'`;
  switch (d.kind) {
    case "tag":
      return `${who} requires the tag '${d.tag}'${d.value ? ` with the value '${d.value}'` : ""} on ${d.on}: add it under the run's tags (Change choices) and retry.`;
    case "locations":
      return `${who} allows only ${d.allowed.length ? d.allowed.join(", ") : "certain regions"}: choose an allowed region (an audit account must be in its clusters' region, so leave out clusters elsewhere), or ${EXEMPTION}.`;
    case "restrict-network":
      return `${who} requires storage accounts to deny access from all networks by default: turn on "Restrict network access" (Change choices) and retry.`;
    case "disable-public-network":
      return `${who} requires storage accounts without public network access; the vendor reads the logs from its own network, so ${EXEMPTION} for the audit accounts.`;
    case "minimum-tls":
      return `${who} requires a minimum TLS version${d.version ? ` of ${d.version}` : ""} on storage accounts; the portal creates them with TLS 1.2, so ${EXEMPTION} if the policy asks for more.`;
    case "shared-key":
      return `${who} requires storage accounts without shared key access; ${EXEMPTION} for the audit accounts.`;
    case "other":
      return `${who}${v.definition && v.definition !== v.assignment ? ` ('${v.definition}')` : ""} denies it: check what it demands in the Azure portal (Policy → Assignments), or ${EXEMPTION}.`;
  }
}
