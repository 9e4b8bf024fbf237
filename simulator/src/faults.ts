// Injected failures (seeded, reproducible) that the portal must survive: throttling, outages, replication delays.
import crypto from "node:crypto";
import { z } from "zod";
import type { SimResponse } from "./contract";
import { armThrottleSchema, perRequestLatencySchema } from "./profile";
import type { FaultKind, FaultProfile, SimState } from "./state";

export const faultProfileSchema = z.object({
  rate: z.number().min(0).max(1),
  kinds: z.array(z.enum(["429", "500", "503", "PrincipalNotFound", "NoBackingApplicationObject"])).default(["429", "500", "503"]),
  seed: z.number().int().default(1),
  /** Retry-After of faulted 429/503 answers; Azure sends 1 s or more, tests may ask for 0 to keep runs short. */
  retryAfterSeconds: z.number().int().min(0).max(60).optional(),
});

export const latencySchema = z.object({
  requestMs: z.number().int().min(0).max(120_000).optional(),
  lroMs: z.record(z.string(), z.number().int().min(0).max(600_000)).optional(),
  replicationMs: z.number().int().min(0).max(600_000).optional(),
  perRequestMs: perRequestLatencySchema.optional(),
  armThrottle: armThrottleSchema.optional(),
  secretPropagationMs: z.number().int().min(0).max(600_000).optional(),
});

/** mulberry32: tiny, fast, good enough to make fault sequences reproducible from a seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rngs = new WeakMap<SimState, { profile: FaultProfile; next: () => number }>();

/** Install a fault profile and restart its random sequence from the seed. */
export function configureFaults(state: SimState, profile: FaultProfile): void {
  state.faults = profile;
  rngs.set(state, { profile, next: mulberry32(profile.seed) });
}

export interface FaultTarget {
  service: "arm" | "graph";
  method: string;
  path: string;
  subscriptionId?: string;
  tenantId: string;
  principalId?: string;
  body: unknown;
}

/** The fault kinds that can hit this request. */
function applicableKinds(kinds: FaultKind[], t: FaultTarget): FaultKind[] {
  return kinds.filter((k) => {
    if (k === "429" || k === "500" || k === "503") return true;
    if (k === "PrincipalNotFound")
      return t.service === "arm" && t.method === "PUT" && /\/providers\/microsoft\.authorization\/roleassignments\/[^/]+$/i.test(t.path);
    return t.service === "graph" && t.method === "POST" && /^\/v1\.0\/serviceprincipals\/?$/i.test(t.path);
  });
}

/** Draw from the seeded sequence: a fault response for this request, or undefined. Faulted requests never reach a handler. */
export function drawFault(state: SimState, t: FaultTarget): SimResponse | undefined {
  const profile = state.faults;
  if (profile.rate <= 0 || profile.kinds.length === 0) return undefined;
  let rng = rngs.get(state);
  if (!rng || rng.profile !== profile) {
    rng = { profile, next: mulberry32(profile.seed) };
    rngs.set(state, rng);
  }
  const kinds = applicableKinds(profile.kinds, t);
  if (kinds.length === 0) return undefined;
  const hit = rng.next() < profile.rate;
  const pick = rng.next();
  if (!hit) return undefined;
  const kind = kinds[Math.min(kinds.length - 1, Math.floor(pick * kinds.length))];
  return kind ? faultResponse(kind, t, profile.retryAfterSeconds ?? 1) : undefined;
}

function faultResponse(kind: FaultKind, t: FaultTarget, retryAfterSeconds: number): SimResponse {
  const retryAfter = String(retryAfterSeconds);
  const requestId = crypto.randomUUID();
  const timestamp = new Date().toISOString();
  const graphInner = { date: timestamp.replace(/\.\d+Z$/, ""), "request-id": requestId, "client-request-id": requestId };
  const op = t.method === "GET" || t.method === "HEAD" ? "reads" : t.method === "DELETE" ? "deletes" : "writes";
  switch (kind) {
    case "429":
      if (t.service === "arm") {
        return {
          status: 429,
          headers: {
            "retry-after": retryAfter,
            [`x-ms-ratelimit-remaining-subscription-${op}`]: "0",
            [`x-ms-ratelimit-remaining-tenant-${op}`]: "0",
            "x-ms-ratelimit-remaining-resource": "Microsoft.Compute/HighCostGet3Min;0",
          },
          body: {
            error: {
              code: "SubscriptionRequestsThrottled",
              message: `Number of '${op.replace(/s$/, "")}' requests for subscription '${t.subscriptionId ?? t.tenantId}' actor '${t.principalId ?? "unknown"}' exceeded. Please try again after '${retryAfter}' seconds after additional tokens are available. Refer to https://aka.ms/arm-throttling`,
            },
          },
        };
      }
      return {
        status: 429,
        headers: {
          "retry-after": retryAfter,
          "x-ms-throttle-limit-percentage": "1.0",
          "x-ms-throttle-scope": "Tenant_Application/ReadWrite",
        },
        body: { error: { code: "TooManyRequests", message: "Too many requests.", innerError: graphInner } },
      };
    case "500":
      return t.service === "arm"
        ? {
            status: 500,
            body: {
              error: {
                code: "InternalServerError",
                message: `Encountered internal server error. Diagnostic information: timestamp '${timestamp}', tracking id '${requestId}', request correlation id '${crypto.randomUUID()}'.`,
              },
            },
          }
        : {
            status: 500,
            body: { error: { code: "generalException", message: "General exception while processing.", innerError: graphInner } },
          };
    case "503":
      return t.service === "arm"
        ? {
            status: 503,
            headers: { "retry-after": retryAfter },
            body: {
              error: {
                code: "ServiceUnavailable",
                message:
                  "The server is currently unable to handle the request due to a temporary overloading or maintenance. Please retry later.",
              },
            },
          }
        : {
            status: 503,
            headers: { "retry-after": retryAfter },
            body: {
              error: {
                code: "serviceNotAvailable",
                message: "The service is temporarily unavailable. Please retry later.",
                innerError: graphInner,
              },
            },
          };
    case "PrincipalNotFound": {
      const props = (t.body as { properties?: { principalId?: unknown } } | undefined)?.properties;
      const principal = typeof props?.principalId === "string" ? props.principalId : "00000000-0000-0000-0000-000000000000";
      return {
        status: 400,
        body: {
          error: {
            code: "PrincipalNotFound",
            message: `Principal ${principal.replace(/-/g, "")} does not exist in the directory ${t.tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
          },
        },
      };
    }
    case "NoBackingApplicationObject": {
      const appId = (t.body as { appId?: unknown } | undefined)?.appId;
      return {
        status: 400,
        body: {
          error: {
            code: "Request_BadRequest",
            message: `The appId '${typeof appId === "string" ? appId : ""}' of the service principal does not reference a valid application object.`,
            details: [
              {
                code: "NoBackingApplicationObject",
                message: `The appId '${typeof appId === "string" ? appId : ""}' of the service principal does not reference a valid application object.`,
                target: "appId",
              },
            ],
            innerError: graphInner,
          },
        },
      };
    }
  }
}
