// The simulator-only control API under /_sim (loopback only, no auth): reset, inspect, inject faults, mint test tokens.
import { z } from "zod";
import { addCluster, addClusterSchema } from "./arm/add-cluster";
import { scenarioSchema, type Scenario } from "./contract";
import { configureFaults, faultProfileSchema, latencySchema } from "./faults";
import { configureHolds, holdRulesSchema, holdStatus, releaseHolds } from "./holds";
import type { SigningKey } from "./identity/keys";
import { RESOURCES, type ResourceKind } from "./identity/resources";
import { deterministicUuid } from "./identity/routes";
import { grantedAppRoles, mintAppAccessToken, mintUserAccessToken } from "./identity/tokens";
import { findUserAnywhere } from "./identity/tenants";
import { isLoopback, type ClientCredential, type RawRequest, type RawResponse } from "./server";
import type { SimState } from "./state";
import { deviceSecretHashes } from "./workbench";

export interface ControlContext {
  baseUrl: string;
  blobUrl: string | undefined;
  key: SigningKey;
  clients: ClientCredential[];
  state(): SimState;
  /** Replace the state with a fresh one from `scenario` (or the current scenario) and seed it. */
  reset(scenario?: Scenario): Promise<SimState>;
  /** Write one kube-audit batch for every cluster with a diagnostic setting now; returns the blob URLs. */
  flushKubeAudit(): Promise<string[]>;
}

/** Default Graph scopes of /_sim/token: what the portal asks users to consent to. */
const DEFAULT_GRAPH_SCOPES = ["Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All", "Application.Read.All", "User.Read"];

const tokenRequestSchema = z
  .object({
    upn: z.string().min(1).optional(),
    /** Mint an application token for an app registration created through Graph instead of a user token. */
    appId: z.string().uuid().optional(),
    resource: z.enum(["arm", "graph", "loganalytics", "storage"]),
    scopes: z.array(z.string().min(1)).optional(),
    clientId: z.string().optional(),
    /** Lifetime in seconds; 0 or negative mints an already expired token (for expiry tests). */
    expiresIn: z.number().int().min(-86_400).max(86_400).optional(),
  })
  .refine((v) => Boolean(v.upn) !== Boolean(v.appId), { message: "give exactly one of upn or appId" });

const SECRET_KEYS = /^(secretText|clientSecret|client_secret|password|secret)$/i;

/** Deep copy without secret values (the control API never reveals secretText). */
function withoutSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([k]) => !SECRET_KEYS.test(k))
        .map(([k, v]) => [k, withoutSecrets(v)]),
    );
  }
  return value;
}

const error = (status: number, code: string, message: string, issues?: unknown): RawResponse => ({
  status,
  body: { error: { code, message, ...(issues ? { issues } : {}) } },
});

function parseBody(req: RawRequest): { ok: true; value: unknown } | { ok: false; response: RawResponse } {
  const text = req.rawBody.toString("utf8").trim();
  if (!text) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return {
      ok: false,
      response: error(400, "InvalidJson", `The body is not valid JSON: ${err instanceof Error ? err.message : String(err)}`),
    };
  }
}

const issuesOf = (e: z.ZodError) => e.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
const readable = (e: z.ZodError) =>
  issuesOf(e)
    .map((i) => `${i.path || "(root)"}: ${i.message}`)
    .join("; ");

/** Builds the /_sim handler of one simulator. */
export function createControl(ctx: ControlContext) {
  function mintToken(input: z.infer<typeof tokenRequestSchema>): RawResponse {
    const state = ctx.state();
    const tenantId = state.scenario.tenant.id;
    const resource: ResourceKind = input.resource;
    if (input.appId) {
      const sp = state.graph.servicePrincipals.find((s) => s.appId === input.appId);
      if (!sp) return error(404, "ServicePrincipalNotFound", `No service principal with appId ${input.appId} exists in the simulator.`);
      const token = mintAppAccessToken(ctx, {
        tenantId,
        appId: input.appId,
        servicePrincipalId: sp.id,
        resource,
        roles: grantedAppRoles(state, sp.id, resource),
        lifetimeSeconds: input.expiresIn,
      });
      return { status: 200, body: { token_type: "Bearer", access_token: token, resource: RESOURCES[resource].audience } };
    }
    const found = findUserAnywhere(state.scenario, { upn: input.upn ?? "" });
    if (!found) return error(404, "UserNotFound", `No user ${input.upn} in the scenario.`);
    const { user } = found;
    const clientId = input.clientId ?? ctx.clients[0]?.clientId ?? deterministicUuid("simulator-test-client");
    const scp =
      resource === "arm" || resource === "storage"
        ? ["user_impersonation"]
        : resource === "graph"
          ? (input.scopes ?? DEFAULT_GRAPH_SCOPES)
          : (input.scopes ?? ["Data.Read"]);
    const token = mintUserAccessToken(ctx, { tenantId: found.tenant.id, user, clientId, resource, scp, lifetimeSeconds: input.expiresIn });
    return { status: 200, body: { token_type: "Bearer", access_token: token, resource: RESOURCES[resource].audience } };
  }

  return async function handleControl(req: RawRequest): Promise<RawResponse> {
    if (!isLoopback(req.remoteAddress)) return error(403, "Forbidden", "The control API answers loopback clients only.");
    const state = ctx.state();
    const route = `${req.method} ${req.path.replace(/\/+$/, "")}`;
    const body = parseBody(req);
    if (!body.ok) return body.response;
    switch (route) {
      case "GET /_sim/health":
        return { status: 200, body: { status: "ok", url: ctx.baseUrl, blobUrl: ctx.blobUrl ?? null, tenant: state.scenario.tenant } };
      case "POST /_sim/reset": {
        if (body.value === undefined) {
          await ctx.reset();
          return { status: 200, body: { status: "reset", tenant: ctx.state().scenario.tenant } };
        }
        const parsed = scenarioSchema.safeParse(body.value);
        if (!parsed.success)
          return error(400, "InvalidScenario", `The scenario is invalid: ${readable(parsed.error)}`, issuesOf(parsed.error));
        await ctx.reset(parsed.data);
        return { status: 200, body: { status: "reset", tenant: parsed.data.tenant } };
      }
      case "GET /_sim/state":
        return {
          status: 200,
          body: {
            tenant: state.scenario.tenant,
            arm: [...state.arm.values()],
            graph: withoutSecrets({
              applications: state.graph.applications,
              servicePrincipals: state.graph.servicePrincipals,
              appRoleAssignments: state.graph.appRoleAssignments,
            }),
            workbench: { devices: withoutSecrets(state.workbench.devices), secretSha256: deviceSecretHashes(state) },
            faults: state.faults,
            latency: state.latency,
          },
        };
      case "GET /_sim/requests": {
        const since = req.query.get("since");
        if (since !== null && Number.isNaN(Date.parse(since))) return error(400, "InvalidSince", "since must be an ISO 8601 date-time.");
        const sinceMs = since === null ? -Infinity : Date.parse(since);
        // The issue specifies a bare array: [{ time, method, url, apiVersion, status, caller, body }].
        return { status: 200, body: state.requests.filter((r) => Date.parse(r.time) >= sinceMs) };
      }
      case "DELETE /_sim/requests":
        state.requests.length = 0;
        return { status: 204 };
      case "POST /_sim/faults": {
        const parsed = faultProfileSchema.safeParse(body.value ?? {});
        if (!parsed.success) return error(400, "InvalidFaults", readable(parsed.error), issuesOf(parsed.error));
        configureFaults(state, parsed.data);
        return { status: 200, body: { faults: state.faults } };
      }
      case "POST /_sim/latency": {
        const parsed = latencySchema.safeParse(body.value ?? {});
        if (!parsed.success) return error(400, "InvalidLatency", readable(parsed.error), issuesOf(parsed.error));
        state.latency = {
          ...state.latency,
          ...(parsed.data.perRequestMs ? { perRequestMs: parsed.data.perRequestMs } : {}),
          ...(parsed.data.armThrottle ? { armThrottle: parsed.data.armThrottle } : {}),
          requestMs: parsed.data.requestMs ?? state.latency.requestMs,
          lroMs: { ...state.latency.lroMs, ...(parsed.data.lroMs ?? {}) },
          replicationMs: parsed.data.replicationMs ?? state.latency.replicationMs,
          secretPropagationMs: parsed.data.secretPropagationMs ?? state.latency.secretPropagationMs,
        };
        return { status: 200, body: { latency: state.latency } };
      }
      case "POST /_sim/holds": {
        const parsed = holdRulesSchema.safeParse(body.value ?? {});
        if (!parsed.success) return error(400, "InvalidHolds", readable(parsed.error), issuesOf(parsed.error));
        configureHolds(state, parsed.data.rules);
        return { status: 200, body: { holds: holdStatus(state) } };
      }
      case "GET /_sim/holds":
        return { status: 200, body: { holds: holdStatus(state) } };
      case "DELETE /_sim/holds":
        releaseHolds(state);
        return { status: 204 };
      case "POST /_sim/token": {
        const parsed = tokenRequestSchema.safeParse(body.value ?? {});
        if (!parsed.success) return error(400, "InvalidTokenRequest", readable(parsed.error), issuesOf(parsed.error));
        return mintToken(parsed.data);
      }
      case "POST /_sim/clusters": {
        const parsed = addClusterSchema.safeParse(body.value ?? {});
        if (!parsed.success) return error(400, "InvalidCluster", readable(parsed.error), issuesOf(parsed.error));
        const added = addCluster(state, parsed.data);
        if (!added.ok) return error(added.status, added.code, added.message);
        return { status: added.created ? 201 : 200, body: added.cluster };
      }
      case "POST /_sim/kube-audit/flush":
        return { status: 200, body: { blobs: await ctx.flushKubeAudit() } };
      default:
        return error(404, "NotFound", `No control endpoint ${route}. See simulator/README.md.`);
    }
  };
}
