// Vendor staff and customer admins sign in to the same simulator through the portal's real sign-in code: the tenant
// names land in the database, and the vendor engineer can't create or check anything in a customer's subscription.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDb, configureDb, listAuditChain, listRunsForTenant, migrate, tenantNames, type SessionWithUser } from "../../../lib/db";
import { checkStorageName, createOnboardingRun } from "../../../lib/onboarding/new-run";
import { isVendorStaff } from "../../../lib/vendor-view/access";
import type { RunningSimulator } from "../../../simulator/src/index";
import { OWNER, startSimForPortal, SUB_PROD, TENANT } from "../azure/support";
import { signInThroughSimulator } from "../sign-in";
import { testDbOptions } from "../../support/pglite-template";

const VENDOR_TENANT = "e7e1d5a0-3c4b-4f7e-9d2a-5b6c7d8e9f01";
const ENGINEER = "engineer@expelvendor.onmicrosoft.com";

let sim: RunningSimulator;
const dataDir = path.join(".test-data", `vendor-sign-in-${crypto.randomBytes(4).toString("hex")}`);

beforeAll(async () => {
  sim = await startSimForPortal();
  process.env.ENTRA_AUTHORITY = `${sim.url}/organizations`;
  process.env.PORTAL_URL = "http://localhost:3000";
  process.env.VENDOR_TENANT_ID = VENDOR_TENANT;
  configureDb(testDbOptions(dataDir));
  await migrate();
}, 60_000);
afterAll(async () => {
  await closeDb();
  await sim?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** The whole sign-in as the browser would do it. */
async function signIn(upn: string): Promise<SessionWithUser> {
  return (await signInThroughSimulator(sim, upn, "/vendor")).session;
}

describe("vendor sign-in against the simulator", () => {
  it("signs the engineer into the vendor tenant and a customer admin into theirs, storing both tenants' names", async () => {
    const engineer = await signIn(ENGINEER);
    expect(engineer.user).toMatchObject({ tenantId: VENDOR_TENANT, upn: ENGINEER });
    expect(isVendorStaff(engineer)).toBe(true);
    const owner = await signIn(OWNER);
    expect(owner.user.tenantId).toBe(TENANT);
    expect(isVendorStaff(owner)).toBe(false);

    const names = await tenantNames([VENDOR_TENANT, TENANT]);
    expect(names.get(TENANT)).toMatchObject({ displayName: "Contoso", defaultDomain: "contoso.onmicrosoft.com" });
    expect(names.get(VENDOR_TENANT)?.displayName).toBe("Expel (vendor)");
  });

  it("refuses the engineer's attempts to create a run in, or check names of, a customer's subscription", async () => {
    const engineer = await signIn(ENGINEER);
    const owner = await signIn(OWNER);
    const storage = { subscriptionId: SUB_PROD, resourceGroup: "rg-aks-audit", accountName: "kubeauditvendor01" };

    // The owner's check works, so the engineer's refusal below is about the tenant, not the request.
    expect(await checkStorageName(owner, storage)).toMatchObject({ ok: true });
    expect((await checkStorageName(engineer, storage)).ok).toBe(false);

    const created = await createOnboardingRun(engineer, {
      subscriptionIds: [SUB_PROD],
      clusterIds: [
        `/subscriptions/${SUB_PROD}/resourceGroups/rg-aks-prod/providers/Microsoft.ContainerService/managedClusters/aks-prod-eastus`,
      ],
      storage: [{ region: "eastus", ...storage }],
      restrictNetwork: false,
      retentionDays: 30,
      secretLifetimeDays: 180,
    });
    expect(created).toMatchObject({ ok: false, fieldErrors: { subscriptionIds: ["not visible"] } });
    expect(await listRunsForTenant(VENDOR_TENANT, { limit: 10 })).toEqual([]);
    expect(await listRunsForTenant(TENANT, { limit: 10 })).toEqual([]);
    expect((await listAuditChain({ tenantId: TENANT })).map((e) => e.action)).toEqual(["auth.sign_in", "auth.sign_in"]);
  });
});
