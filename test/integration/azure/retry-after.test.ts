// Retry-After of throttled ARM and Graph calls survives lib/azure's error mapping and reaches the engine's retry decision.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { getResourceGroup } from "../../../lib/azure/get-resource-group";
import { getServicePrincipalByAppId } from "../../../lib/azure/get-service-principal-by-app-id";
import { classifyFailure } from "../../../lib/engine/policy";
import type { RunningSimulator } from "../../../simulator/src/index";
import { azureError, LOG_ANALYTICS_APP_ID, OWNER, setFaults, startSimForPortal, SUB_PROD, userCredential } from "./support";

let sim: RunningSimulator;

beforeAll(async () => {
  sim = await startSimForPortal();
});
afterEach(async () => setFaults(sim, { rate: 0 }));
afterAll(async () => sim.close());

// Rate 1.0: the SDKs retry a 429 three times on their own (honouring the simulator's `Retry-After: 1`) before giving up.
describe("Retry-After on throttled calls", () => {
  it("keeps ARM's Retry-After on the AzureOperationError, and the engine's retry decision carries it", async () => {
    await setFaults(sim, { rate: 1, kinds: ["429"], seed: 11 });
    const error = await azureError(getResourceGroup(userCredential(sim, OWNER, "arm"), SUB_PROD, "rg-throttled"));
    expect(error).toMatchObject({ code: "throttled", status: 429, azureCode: "SubscriptionRequestsThrottled", retryAfterMs: 1000 });
    expect(classifyFailure(error, { action: "read the resource group", createdRecently: false })).toMatchObject({
      kind: "transient",
      retryAfterMs: 1000,
    });
  });

  it("keeps Graph's Retry-After on the AzureOperationError", async () => {
    await setFaults(sim, { rate: 1, kinds: ["429"], seed: 12 });
    const error = await azureError(getServicePrincipalByAppId(userCredential(sim, OWNER, "graph"), LOG_ANALYTICS_APP_ID));
    expect(error).toMatchObject({ code: "throttled", status: 429, retryAfterMs: 1000 });
    expect(classifyFailure(error, { action: "read the service principal", createdRecently: false })).toMatchObject({
      kind: "transient",
      retryAfterMs: 1000,
    });
  });
});
