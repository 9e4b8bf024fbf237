// Azure Policy assignments that apply to a subscription, and policy definitions by id (reads with the admin's ARM token).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { createPipelineRequest, type PipelineResponse } from "@azure/core-rest-pipeline";
import { z } from "zod";
import { env } from "@/lib/env";
import { authorizationClient } from "./clients";
import { armErrorFields, toAzureError } from "./errors";

/** One policy assignment, as far as the portal reads it. */
export interface PolicyAssignment {
  id: string;
  name: string;
  displayName: string | null;
  policyDefinitionId: string;
  scope: string;
  notScopes: string[];
  /** Parameter values: `{ tagName: "costCenter" }`. */
  parameters: Record<string, unknown>;
  /** "Default" enforces the effect; "DoNotEnforce" only evaluates. */
  enforcementMode: string;
}

/** One policy definition: its rule and its parameters' default values. */
export interface PolicyDefinition {
  id: string;
  name: string;
  displayName: string | null;
  mode: string | null;
  policyRule: unknown;
  parameterDefaults: Record<string, unknown>;
}

/** One policy set definition (initiative): its member definitions with the parameter values it passes them. */
export interface PolicySetDefinition {
  id: string;
  members: { policyDefinitionId: string; parameters: Record<string, unknown> }[];
  parameterDefaults: Record<string, unknown>;
}

const parametersSchema = z.record(z.string(), z.object({ defaultValue: z.unknown().optional() }).passthrough()).nullish();
const defaultsOf = (p: z.infer<typeof parametersSchema>) =>
  Object.fromEntries(Object.entries(p ?? {}).flatMap(([k, v]) => (v.defaultValue === undefined ? [] : [[k, v.defaultValue]])));

const assignmentSchema = z.object({
  id: z.string(),
  name: z.string(),
  properties: z
    .object({
      displayName: z.string().nullish(),
      policyDefinitionId: z.string(),
      scope: z.string(),
      notScopes: z.array(z.string()).nullish(),
      parameters: z.record(z.string(), z.object({ value: z.unknown() }).passthrough()).nullish(),
      enforcementMode: z.string().nullish(),
    })
    .passthrough(),
});

const pageSchema = z.object({ value: z.array(z.unknown()), nextLink: z.string().nullish() });

const definitionSchema = z.object({
  id: z.string(),
  name: z.string(),
  properties: z
    .object({
      displayName: z.string().nullish(),
      mode: z.string().nullish(),
      policyRule: z.unknown(),
      parameters: parametersSchema,
    })
    .passthrough(),
});

const setDefinitionSchema = z.object({
  id: z.string(),
  properties: z
    .object({
      parameters: parametersSchema,
      policyDefinitions: z.array(
        z
          .object({
            policyDefinitionId: z.string(),
            parameters: z.record(z.string(), z.object({ value: z.unknown() }).passthrough()).nullish(),
          })
          .passthrough(),
      ),
    })
    .passthrough(),
});

// Microsoft.Authorization policy REST API (azure-rest-api-specs, Authorization/stable/2022-06-01/policyAssignments.json
// and 2021-06-01/policyDefinitions.json).
const ASSIGNMENTS_API = "2022-06-01";
const DEFINITIONS_API = "2021-06-01";
const MAX_PAGES = 20;
/** A built-in, subscription or management-group definition id: the only paths ever appended to the ARM endpoint here. */
function isDefinitionId(id: string, kind: "policyDefinitions" | "policySetDefinitions"): boolean {
  const scope = "(\\/(subscriptions|providers\\/Microsoft\\.Management\\/managementGroups)\\/[-\\w()]+(\\.[-\\w()]+)*)?";
  return (
    new RegExp(`^${scope}\\/providers\\/Microsoft\\.Authorization\\/${kind}\\/[-\\w()]+(\\.[-\\w()]+)*$`, "i").test(id) &&
    !id.includes("..")
  );
}

/**
 * GET /subscriptions/{id}/providers/Microsoft.Authorization/policyAssignments, every page: without $filter it lists the
 * assignments at the subscription, inherited from its management groups, and on resource groups and resources in it.
 */
export async function listPolicyAssignments(credential: TokenCredential, subscriptionId: string): Promise<PolicyAssignment[]> {
  const client = authorizationClient(credential, subscriptionId);
  const out: PolicyAssignment[] = [];
  let url: string | undefined =
    `${env().ARM_ENDPOINT}/subscriptions/${encodeURIComponent(subscriptionId)}/providers/Microsoft.Authorization/policyAssignments?api-version=${ASSIGNMENTS_API}`;
  try {
    for (let page = 0; url && page < MAX_PAGES; page++) {
      const parsed = pageSchema.parse(await getJson(client, url, "policy assignments"));
      for (const item of parsed.value) {
        // One odd entry (a shape this code doesn't know) is skipped, not a failure of the whole list.
        const a = assignmentSchema.safeParse(item);
        if (!a.success) continue;
        const p = a.data.properties;
        out.push({
          id: a.data.id,
          name: a.data.name,
          displayName: p.displayName ?? null,
          policyDefinitionId: p.policyDefinitionId,
          scope: p.scope,
          notScopes: p.notScopes ?? [],
          parameters: Object.fromEntries(Object.entries(p.parameters ?? {}).map(([k, v]) => [k, v.value])),
          enforcementMode: p.enforcementMode ?? "Default",
        });
      }
      url = parsed.nextLink ?? undefined;
    }
    return out;
  } catch (error) {
    throw toAzureError(error, { action: "read the policy assignments of this subscription", requiredRole: "Reader" });
  }
}

/** GET {policyDefinitionId}: a built-in (/providers/…) or custom (subscription or management group) definition. */
export function getPolicyDefinition(credential: TokenCredential, subscriptionId: string, definitionId: string): Promise<PolicyDefinition> {
  return readDefinition(credential, subscriptionId, definitionId, "policyDefinitions", "a policy definition", (body) => {
    const d = definitionSchema.parse(body);
    return {
      id: d.id,
      name: d.name,
      displayName: d.properties.displayName ?? null,
      mode: d.properties.mode ?? null,
      policyRule: d.properties.policyRule,
      parameterDefaults: defaultsOf(d.properties.parameters),
    };
  });
}

/** GET {policySetDefinitionId}: an initiative's member definitions and the parameters it passes them. */
export function getPolicySetDefinition(credential: TokenCredential, subscriptionId: string, setId: string): Promise<PolicySetDefinition> {
  return readDefinition(credential, subscriptionId, setId, "policySetDefinitions", "a policy initiative", (body) => {
    const d = setDefinitionSchema.parse(body);
    return {
      id: d.id,
      members: d.properties.policyDefinitions.map((m) => ({
        policyDefinitionId: m.policyDefinitionId,
        parameters: Object.fromEntries(Object.entries(m.parameters ?? {}).map(([k, v]) => [k, v.value])),
      })),
      parameterDefaults: defaultsOf(d.properties.parameters),
    };
  });
}

async function readDefinition<T>(
  credential: TokenCredential,
  subscriptionId: string,
  id: string,
  kind: "policyDefinitions" | "policySetDefinitions",
  what: string,
  parse: (body: unknown) => T,
): Promise<T> {
  // The id comes from an assignment Azure returned; still, only a definition path may be appended to the ARM endpoint.
  if (!isDefinitionId(id, kind))
    throw toAzureError(Object.assign(new Error(`not a ${kind} id`), { statusCode: 400 }), { action: `read ${what}` });
  const client = authorizationClient(credential, subscriptionId);
  try {
    return parse(await getJson(client, `${env().ARM_ENDPOINT}${id}?api-version=${DEFINITIONS_API}`, what));
  } catch (error) {
    throw toAzureError(error, { action: `read ${what}`, requiredRole: "Reader" });
  }
}

async function getJson(client: ReturnType<typeof authorizationClient>, url: string, what: string): Promise<unknown> {
  const response: PipelineResponse = await client.sendRequest(createPipelineRequest({ url, method: "GET" }));
  const text = response.bodyAsText ?? undefined;
  if (response.status >= 400)
    throw Object.assign(new Error(`${what}: ${response.status}`), { statusCode: response.status, response, ...armErrorFields(text) });
  return JSON.parse(text ?? "{}") as unknown;
}
