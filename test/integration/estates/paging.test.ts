// A tenant of 150 subscriptions and 450 clusters (large-estate-150.json): the portal's own listing code follows every
// nextLink, so nothing past the first page goes missing.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listManagedClusters } from "../../../lib/azure/list-managed-clusters";
import { listPrincipalAssignmentsInSubscription } from "../../../lib/azure/list-principal-assignments";
import { listRoleAssignmentsForPrincipal } from "../../../lib/azure/list-role-assignments-for-principal";
import { listSubscriptions } from "../../../lib/azure/list-subscriptions";
import { mapBounded } from "../../../lib/concurrency";
import { sha256 } from "../../../lib/crypto";
import { closeDb, configureDb, findSession, migrate } from "../../../lib/db";
import { loadEstate } from "../../../lib/estate/load-estate";
import type { RunningSimulator } from "../../../simulator/src/index";
import { loadScenario } from "../../../simulator/src/index";
import { signIn } from "../auth/support";
import { clearRequests, OWNER, simRequests, startSimForPortal, userCredential } from "../azure/support";
import { testDbOptions } from "../../support/pglite-template";

const SCENARIO_FILE = path.join("simulator", "scenarios", "large-estate-150.json");
const scenario = loadScenario(SCENARIO_FILE);
const CLUSTERS = scenario.subscriptions.reduce((n, s) => n + s.clusters.length, 0);
const OWNER_OID = scenario.users[0]?.objectId ?? "";
const dataDir = path.join(".test-data", `estates-paging-${crypto.randomBytes(4).toString("hex")}`);
let sim: RunningSimulator;
const owner = () => userCredential(sim, OWNER, "arm");

beforeAll(async () => {
  sim = await startSimForPortal({ scenario: SCENARIO_FILE });
  Object.assign(process.env, { PORTAL_URL: "http://localhost:3000", ENCRYPTION_KEY: crypto.randomBytes(32).toString("base64") });
  configureDb(testDbOptions(dataDir));
  await migrate();
}, 120_000);
afterAll(async () => {
  await closeDb();
  await sim?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** GETs the simulator served since the last clear whose URL matches, and how many of them were follow-up pages. */
async function served(match: RegExp): Promise<{ total: number; nextPages: number }> {
  const log = (await simRequests(sim)).filter((r) => r.method === "GET" && match.test(r.url));
  return { total: log.length, nextPages: log.filter((r) => r.url.includes("skiptoken")).length };
}

describe("a 150-subscription tenant through nextLink paging", () => {
  it("lists all 150 subscriptions", async () => {
    await clearRequests(sim);
    const subs = await listSubscriptions(owner());
    expect(subs).toHaveLength(scenario.subscriptions.length);
    expect(new Set(subs.map((s) => s.id))).toEqual(new Set(scenario.subscriptions.map((s) => s.id)));
    const pages = await served(/\/subscriptions\?/);
    expect(pages.nextPages).toBeGreaterThan(0);
    expect(pages.total).toBe(Math.ceil(scenario.subscriptions.length / 50));
  });

  it("lists every cluster of every subscription", async () => {
    await clearRequests(sim);
    const perSub = await mapBounded(scenario.subscriptions, 6, (s) => listManagedClusters(owner(), s.id));
    expect(perSub.reduce((n, cs) => n + cs.length, 0)).toBe(CLUSTERS);
    for (const [i, s] of scenario.subscriptions.entries())
      expect(perSub[i]?.map((c) => c.name).sort()).toEqual(s.clusters.map((c) => c.name).sort());
    expect((await served(/managedClusters\?/i)).nextPages).toBeGreaterThan(scenario.subscriptions.length / 2);
  });

  it("reads the admin's role assignments across pages", async () => {
    await clearRequests(sim);
    const sub = scenario.subscriptions[0]?.id ?? "";
    const assignments = await listRoleAssignmentsForPrincipal(owner(), sub, OWNER_OID);
    expect(assignments).toHaveLength(2);
    expect((await served(/roleAssignments\?/)).nextPages).toBe(1);
  });

  it("reads one principal's assignments (the role-assignments step's listing) across pages", async () => {
    await clearRequests(sim);
    const sub = scenario.subscriptions[0]?.id ?? "";
    const assignments = await listPrincipalAssignmentsInSubscription(owner(), sub, OWNER_OID);
    expect(assignments.map((a) => a.principalId)).toEqual([OWNER_OID, OWNER_OID]);
    expect((await served(/roleAssignments\?/)).nextPages).toBe(1);
  });

  it("loads the estate page's data: 150 subscriptions, every cluster, rights from paged role assignments", async () => {
    const session = await findSession(sha256(await signIn(sim, OWNER)));
    if (!session) throw new Error("no session");
    await clearRequests(sim);
    const estate = await loadEstate(session);
    if (!estate.ok) throw new Error(`estate failed: ${estate.message}`);
    expect(estate.subscriptions).toHaveLength(150);
    expect(estate.subscriptions.reduce((n, s) => n + s.clusterCount, 0)).toBe(CLUSTERS);
    expect(estate.subscriptions.every((s) => s.roleAssignments.status === "allowed")).toBe(true);
    expect((await served(/\/subscriptions\?/)).nextPages).toBe(2);
  }, 120_000);
});
