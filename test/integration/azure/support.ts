// Shared setup for the lib/azure integration tests: a simulator per test file and the portal's env pointed at it.
import { randomBytes } from "node:crypto";
import type { TokenCredential } from "@azure/core-auth";
import { expect } from "vitest";
import { delegatedCredential } from "../../../lib/auth/tokens";
import { AzureOperationError } from "../../../lib/azure/errors";
import { WELL_KNOWN_APP_IDS } from "../../../lib/azure/graph-ids";
import type { RunningSimulator, SimulatorOptions } from "../../../simulator/src/index";
import { simJson, simToken, startTestSimulator, TEST_CLIENT, type JsonBody } from "../../../simulator/src/testing";

export const TENANT = "c88cdae7-edd7-47b6-9d38-7d9f34bce8fc";
export const SUB_PROD = "602d1a18-a35e-4b89-a27e-56cb26da2c7b";
export const SUB_DEV = "2cf36c9a-02f4-41d4-b097-7345a8e2806e";
export const OWNER = "owner@contoso.onmicrosoft.com";
export const READER = "reader@contoso.onmicrosoft.com";
export const LOG_ANALYTICS_APP_ID = WELL_KNOWN_APP_IDS.logAnalyticsApi;

/** Start a simulator and point this test process's portal configuration at it (env() is lazy and cached per process). */
export async function startSimForPortal(overrides: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  const sim = await startTestSimulator(overrides);
  process.env.ARM_ENDPOINT = sim.url;
  process.env.GRAPH_ENDPOINT = sim.url;
  // Verification signs in as the created app (client credentials) on this authority.
  process.env.ENTRA_AUTHORITY = `${sim.url}/organizations`;
  process.env.LOG_ANALYTICS_ENDPOINT = sim.url;
  process.env.LOG_ANALYTICS_AUDIENCE = "https://api.loganalytics.io";
  process.env.ENTRA_CLIENT_ID = TEST_CLIENT.clientId;
  process.env.ENTRA_CLIENT_SECRET = TEST_CLIENT.clientSecret;
  process.env.ENCRYPTION_KEY = randomBytes(32).toString("base64");
  await setLatency(sim, { lroMs: { storageAccount: 100, providerRegistration: 300 }, replicationMs: 0 });
  return sim;
}

/** The signed-in admin's delegated credential for one resource, as the portal builds it from the session. */
export function userCredential(sim: RunningSimulator, upn: string, resource: "arm" | "graph", scopes?: string[]): TokenCredential {
  let cached: Promise<string> | undefined;
  return delegatedCredential(async () => {
    cached ??= simToken(sim, { upn, resource, scopes });
    return { token: await cached, expiresOn: new Date(Date.now() + 3_600_000) };
  });
}

export async function setLatency(
  sim: RunningSimulator,
  latency: { lroMs?: Record<string, number>; replicationMs?: number },
): Promise<void> {
  const r = await simJson(sim, "POST", "/_sim/latency", { body: latency });
  expect(r.status).toBe(200);
}

export async function setFaults(sim: RunningSimulator, faults: { rate: number; kinds?: string[]; seed?: number }): Promise<void> {
  const r = await simJson(sim, "POST", "/_sim/faults", { body: faults });
  expect(r.status).toBe(200);
}

/** GET /_sim/state. */
export async function simState(sim: RunningSimulator): Promise<JsonBody> {
  return (await simJson(sim, "GET", "/_sim/state")).body;
}

/** ARM resources of one type in the simulator's state. */
export async function armOfType(sim: RunningSimulator, type: string): Promise<JsonBody[]> {
  const state = await simState(sim);
  return (state.arm as JsonBody[]).filter((r) => String(r.type).toLowerCase() === type.toLowerCase());
}

export interface LoggedRequest {
  method: string;
  url: string;
  status: number;
  caller: string | null;
  body: JsonBody;
}

/** Requests the simulator saw since `since` (ISO). */
export async function simRequests(sim: RunningSimulator, since?: string): Promise<LoggedRequest[]> {
  const q = since ? `?since=${encodeURIComponent(since)}` : "";
  return (await simJson(sim, "GET", `/_sim/requests${q}`)).body as LoggedRequest[];
}

/** The AzureOperationError a call rejected with (fails the test if it resolved or threw something else). */
export async function azureError(p: Promise<unknown>): Promise<AzureOperationError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AzureOperationError);
    return e as AzureOperationError;
  }
  throw new Error("expected the call to fail");
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Forget the request log, so a test can look at exactly the requests it caused. */
export async function clearRequests(sim: RunningSimulator): Promise<void> {
  expect((await simJson(sim, "DELETE", "/_sim/requests")).status).toBe(204);
}

/** Raw ARM call with a user's token (for test setup the portal never does itself). */
export async function armRaw(sim: RunningSimulator, upn: string, method: string, pathAndQuery: string, body?: unknown) {
  const token = await simToken(sim, { upn, resource: "arm" });
  return simJson(sim, method, pathAndQuery, { token, body });
}
