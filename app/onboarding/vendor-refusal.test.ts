import crypto from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import { createSession, getRunForTenant, listAuditEvents, upsertUser } from "@/lib/db";
import { randomToken, sha256 } from "@/lib/crypto";
import { runningRun, setupEngineDb } from "@/test/support/engine";
import { VENDOR_STAFF_READ_ONLY } from "@/lib/vendor-view/access";
import * as adminHandoff from "./admin-handoff-actions";
import * as run from "./actions";
import * as drift from "./drift-actions";
import * as handoff from "./handoff-actions";
import * as offboard from "./offboard-actions";
import * as plan from "./plan-actions";
import * as rotation from "./rotation-actions";
import * as verification from "./verification-actions";
import { sessionCookie } from "@/test/support/next-headers";

const VENDOR = "e7e1d5a0-3c4b-4f7e-9d2a-5b6c7d8e9f01";
vi.stubEnv("VENDOR_TENANT_ID", VENDOR);
vi.mock("server-only", () => ({}));
vi.mock("next/cache", () => ({ revalidatePath: vi.fn() }));
vi.mock("next/headers", () => import("@/test/support/next-headers"));

setupEngineDb("vendor-refusal");

async function signIn(tenantId: string): Promise<void> {
  const user = await upsertUser({
    tenantId,
    objectId: crypto.randomUUID(),
    upn: `someone@${tenantId.slice(0, 8)}.example`,
    displayName: "Someone",
  });
  sessionCookie.token = randomToken();
  await createSession({
    tokenHash: sha256(sessionCookie.token),
    userId: user.id,
    homeAccountId: "h",
    tokenCache: "",
    expiresAt: new Date(Date.now() + 3_600_000),
  });
}

type AnyAction = (prev: null, form: FormData) => Promise<unknown>;
// Every export of the customer action modules, called as a form would: a new action is covered without editing this list.
const ACTIONS: [string, AnyAction][] = Object.entries({
  ...run,
  ...adminHandoff,
  ...drift,
  ...handoff,
  ...offboard,
  ...plan,
  ...rotation,
  ...verification,
}).map(([name, action]) => [name, action as unknown as AnyAction]);

describe("customer actions and vendor staff", () => {
  it("refuse vendor staff with a read-only message before reading or writing anything", async () => {
    const customerRun = await runningRun();
    await signIn(VENDOR);
    expect(ACTIONS.length).toBeGreaterThanOrEqual(13);
    for (const [name, action] of ACTIONS) {
      const form = new FormData();
      form.set("runId", customerRun.id);
      form.set("planHash", "0".repeat(64));
      const result = await action(null, form);
      expect({ name, result }).toEqual({ name, result: { ok: false, message: VENDOR_STAFF_READ_ONLY, code: "vendor_read_only" } });
    }
    expect(await listAuditEvents(VENDOR, { limit: 10 })).toEqual([]);
    expect(await listAuditEvents(customerRun.tenantId, { limit: 10 })).toEqual([]);
    expect((await getRunForTenant(customerRun.id, customerRun.tenantId))?.status).toBe("running");
  });

  it("let a customer admin through to the tenant check", async () => {
    const customerRun = await runningRun();
    await signIn(crypto.randomUUID());
    const form = new FormData();
    form.set("runId", customerRun.id);
    expect(await run.continueRunAction(null, form)).toMatchObject({ ok: false, code: "forbidden" });
  });

  it("tell a signed-out caller to sign in again", async () => {
    sessionCookie.token = "";
    expect(await run.continueRunAction(null, new FormData())).toMatchObject({ ok: false, code: "unauthenticated" });
  });
});
