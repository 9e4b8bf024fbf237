// The exported Azure CLI script, run by a client we didn't write: the portal plans and runs on one fresh simulator, its
// CLI export runs with Debian's az 2.45 on a second, identical one, and both end in the same Azure state.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { roleAssignmentName } from "../../../lib/azure/names";
import { planExportDownload } from "../../../lib/exports/download";
import type { RunningSimulator } from "../../../simulator/src/index";
import { DEFAULT_SCENARIO, startTestSimulator, type JsonBody } from "../../../simulator/src/testing";
import { OWNER, setLatency, simState, SUB_DEV, SUB_PROD, TENANT } from "../azure/support";
import { confirmedRun, driveRun, FAST_LATENCY, portalFixture, sessionOf } from "../portal-fixture";
import { defaultRunConfig } from "../steps/context";
import { azSignedIn, type AzSession } from "../../../scripts/az-simulator";

/** The admin that runs the script: Owner of both subscriptions, and the Graph permissions of the app section. */
const ADMIN = {
  appId: "8b0d6f4a-3e1c-4d5f-ab9e-6c4e5d7f8a9b",
  objectId: "9c1e7a5b-4f2d-4e6a-bc0f-7d5f6e8a9bac",
  applicationObjectId: "ad2f8b6c-5a3e-4f7b-8d1a-8e6a7f9bacbd",
  displayName: "Onboarding script runner",
  secret: "cli-export-replay-secret-4c8e2a6f1d",
  directoryRoles: [],
  subscriptionRoles: { [SUB_PROD]: ["Owner"], [SUB_DEV]: ["Owner"] },
  graphAppRoles: ["Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"],
};
const scenario = { ...(JSON.parse(fs.readFileSync(DEFAULT_SCENARIO, "utf8")) as Record<string, unknown>), servicePrincipals: [ADMIN] };

let portalSim: RunningSimulator;
const { tokensOf } = portalFixture("cli-export-replay", { blob: true, latency: FAST_LATENCY, scenario }, (s) => (portalSim = s));
const tokens = tokensOf(OWNER);
let scriptSim: RunningSimulator;
let az: AzSession;
let script = "";
interface ScriptRun {
  ms: number;
  stdout: string;
  stderr: string;
  code: number | null;
}
let first: ScriptRun;
let second: ScriptRun;

function runScript(file: string, env: NodeJS.ProcessEnv): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const child = spawn("bash", [file], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ ms: Date.now() - start, stdout, stderr, code }));
  });
}

beforeAll(async () => {
  const runId = await confirmedRun(tokens, {
    onPlanned: async (id) => {
      const exported = await planExportDownload(await sessionOf(OWNER, "Owner"), { runId: id, format: "cli" });
      if (!exported.ok) throw new Error(`the CLI export answered ${exported.status}`);
      script = exported.body;
    },
  });
  expect(await driveRun(runId, tokens)).toEqual({ outcome: "completed" });

  // Entra and RBAC replicate new objects with a delay here, as in Azure: the script must wait for them as the portal does.
  scriptSim = await startTestSimulator({ scenario });
  await setLatency(scriptSim, { ...FAST_LATENCY, replicationMs: 3_000 });
  az = await azSignedIn(scriptSim, { appId: ADMIN.appId, secret: ADMIN.secret, tenantId: TENANT });
  const file = path.join(String(az.env.HOME), "onboarding.sh");
  fs.writeFileSync(file, script, { mode: 0o700 });
  first = await runScript(file, az.env);
  console.log(`script, first run: ${first.ms} ms, exit ${first.code}; stderr: ${first.stderr.slice(-2000)}`);
  second = await runScript(file, az.env);
  console.log(`script, second run: ${second.ms} ms, exit ${second.code}; stderr: ${second.stderr.slice(-2000)}`);
}, 600_000);

afterAll(async () => {
  await az?.close();
  await scriptSim?.close();
});

describe("the exported Azure CLI script", () => {
  it("runs to the end with az, waiting out Entra's and RBAC's replication on the way", () => {
    expect(first.code).toBe(0);
    const waits = first.stderr.split("\n").filter((l) => l.startsWith("Azure has not replicated a new object yet"));
    // On a busy machine the commands before may outlast the replication; the waits themselves are unit-tested.
    expect(first.stderr.split("\n").filter((l) => l && !waits.includes(l))).toEqual([]);
    // The secret is printed once, to the admin who runs the script.
    expect(first.stdout).toMatch(/"password": "[^"]{16,}"/);
  });

  it("runs again and changes nothing: no second service principal, consent or secret", () => {
    expect(second.code).toBe(0);
    expect(second.stderr).toBe("");
    expect(second.stdout).not.toMatch(/"password"/);
    expect(second.stdout).toContain("exists (an earlier run of this script printed it)");
  });

  it("makes what the portal made, resource by resource; only the listed differences are allowed", async () => {
    const portal = normalized(await simState(portalSim));
    const scripted = normalized(await simState(scriptSim));
    expect(scripted.arm.map((r) => r.id)).toEqual(portal.arm.map((r) => r.id));
    for (const [i, r] of portal.arm.entries()) expect(scripted.arm[i], r.id).toEqual(r);
    for (const kind of ["applications", "servicePrincipals", "appRoleAssignments"] as const)
      expect(scripted.graph[kind], kind).toEqual(portal.graph[kind]);
    // Same secret lifetime: the end dates differ by the time between the two runs.
    expect(Math.abs(scripted.secretEnd - portal.secretEnd)).toBeLessThan(10 * 60_000);
  });
});

/**
 * A simulator's state with what may differ between two runs replaced by placeholders. The allowed differences:
 * - ids Entra generates: the app's object id and appId, its service principal's id, the consent's id, the secret's keyId;
 * - role assignment names, uuidv5(scope|service principal id|role): each must be that name for its own state's principal;
 * - secret values (passwordCredentials.hint, the secret's first characters);
 * - times (created, modified, key creation, secret start and end: the end is compared as a lifetime above);
 * - who made it (custom roles' createdBy/updatedBy: the portal's signed-in admin, the script's service principal);
 * - the simulator's own address (each has its ports), and Workbench, to which the script's user hands over by hand.
 */
function normalized(state: JsonBody): { arm: JsonBody[]; graph: Record<string, JsonBody[]>; secretEnd: number } {
  const vendor = defaultRunConfig().vendor;
  const app: JsonBody = state.graph.applications.find((a: JsonBody) => a.uniqueName === vendor.appUniqueName);
  const sp: JsonBody = state.graph.servicePrincipals.find((s: JsonBody) => s.appId === app?.appId);
  expect(app, "the vendor's app").toBeDefined();
  expect(sp, "its service principal").toBeDefined();
  expect(app.passwordCredentials).toHaveLength(1);
  const replace = new Map<string, string>([
    [app.id, "<app object id>"],
    [app.appId, "<app id>"],
    [sp.id, "<service principal id>"],
    [app.passwordCredentials[0].keyId, "<secret key id>"],
  ]);
  for (const g of state.graph.appRoleAssignments.filter((g: JsonBody) => g.principalId === sp.id)) replace.set(g.id, "<consent id>");
  for (const r of state.arm as JsonBody[]) {
    if (String(r.type).toLowerCase() !== "microsoft.authorization/roleassignments" || r.properties.principalId !== sp.id) continue;
    const role = String(r.properties.roleDefinitionId).split("/").pop() ?? "";
    expect(r.name, r.id).toBe(roleAssignmentName(String(r.properties.scope), sp.id, role));
    replace.set(r.name, `<assignment name of ${String(r.properties.scope).toLowerCase()}|${role}>`);
  }
  const TIMES = new Set(["createdOn", "updatedOn", "creationTime", "lastModifiedTime", "lastEnabledTime", "key1", "key2"]);
  const GRAPH_TIMES = new Set(["createdDateTime", "startDateTime", "endDateTime"]);
  const walk = (value: unknown, key = ""): unknown => {
    if (typeof value === "string") {
      if ((TIMES.has(key) || GRAPH_TIMES.has(key)) && !Number.isNaN(Date.parse(value))) return "<time>";
      if (key === "createdBy" || key === "updatedBy") return "<who made it>";
      if (key === "hint") return "<secret's first characters>";
      let out = value.replace(/^https:\/\/127\.0\.0\.1:\d+\//, "<simulator>/");
      for (const [from, to] of replace) out = out.split(from).join(to);
      return out;
    }
    if (Array.isArray(value)) return value.map((v) => walk(v));
    if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    return value;
  };
  const arm = (walk(state.arm) as JsonBody[]).sort((x, y) => String(x.id).toLowerCase().localeCompare(String(y.id).toLowerCase()));
  const byId = (xs: JsonBody[]) => [...xs].sort((x, y) => String(x.id).localeCompare(String(y.id)));
  const graph = walk(state.graph) as Record<string, JsonBody[]>;
  return {
    arm,
    graph: Object.fromEntries(Object.entries(graph).map(([k, v]) => [k, byId(v)])),
    secretEnd: Date.parse(app.passwordCredentials[0].endDateTime),
  };
}
