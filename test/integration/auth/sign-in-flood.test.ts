// 5,000 unauthenticated sign-in starts against the portal's route handlers (PGlite, simulator): the pending table stays
// bounded, floods get 429 with Retry-After, and a real sign-in started in the middle, with a cross-site navigation
// on top, still completes.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { NextRequest } from "next/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as callbackRoute } from "../../../app/auth/callback/route";
import { GET as signInRoute } from "../../../app/auth/sign-in/route";
import { SESSION_COOKIE, SIGN_IN_STATE_COOKIE, pendingStates } from "../../../lib/auth/cookies";
import { beginSignIn, completeSignIn } from "../../../lib/auth/sign-in";
import { sha256 } from "../../../lib/crypto";
import { closeDb, configureDb, findSession, migrate } from "../../../lib/db";
import { countAuthRequests } from "../../../lib/db/auth-requests";
import type { RunningSimulator } from "../../../simulator/src/index";
import { OWNER } from "../azure/support";
import { pickAccount, startSignInSimulator } from "./support";
import { testDbOptions } from "../../support/pglite-template";

const PORTAL = "http://localhost:3000";
const CAP = 1000;
let sim: RunningSimulator;
const dataDir = path.join(".test-data", `sign-in-flood-${crypto.randomBytes(4).toString("hex")}`);

beforeAll(async () => {
  sim = await startSignInSimulator({ SIGN_IN_PENDING_MAX: String(CAP), SIGN_IN_RATE_PER_MINUTE: "30", TRUST_PROXY: "0" });
  configureDb(testDbOptions(dataDir));
  await migrate();
}, 60_000);
afterAll(async () => {
  await closeDb();
  await sim?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** GET /auth/sign-in from `client` (what next start records in X-Forwarded-For) with the browser's state cookie. */
function startRequest(client: string, stateCookie?: string, returnTo = "/estate"): NextRequest {
  const headers = new Headers({ "x-forwarded-for": client });
  if (stateCookie) headers.set("cookie", `${SIGN_IN_STATE_COOKIE}=${stateCookie}`);
  return new NextRequest(`${PORTAL}/auth/sign-in?returnTo=${encodeURIComponent(returnTo)}`, { headers });
}

describe("a flood of sign-in starts", () => {
  it("is answered 429 past the limits, keeps the table bounded, and doesn't stop a real sign-in begun in the middle", async () => {
    const statuses = new Map<number, number>();
    let most = 0;
    let retryAfter = "";
    let body = "";
    const started = performance.now();
    const flood = async (n: number, client: (i: number) => string) => {
      for (let i = 0; i < n; i++) {
        const res = await signInRoute(startRequest(client(i)));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 429 && !retryAfter) {
          retryAfter = res.headers.get("retry-after") ?? "";
          body = await res.text();
        }
        if (i % 100 === 99) most = Math.max(most, await countAuthRequests());
      }
    };

    // 2,500 from one address, then the victim starts a real sign-in from theirs.
    await flood(2500, () => "198.51.100.7");
    const real = await signInRoute(startRequest("203.0.113.20", undefined, "/onboarding/new"));
    expect(real.status).toBe(303);
    const victimCookie = real.cookies.get(SIGN_IN_STATE_COOKIE)?.value ?? "";
    const [victimState] = pendingStates(victimCookie);
    const authorizeUrl = real.headers.get("location") ?? "";
    expect(new URL(authorizeUrl).searchParams.get("state")).toBe(victimState);

    // An attacker's page navigates the victim's browser to /auth/sign-in: a second pending state, the first kept.
    const forced = await signInRoute(startRequest("203.0.113.20", victimCookie));
    const bothCookie = forced.cookies.get(SIGN_IN_STATE_COOKIE)?.value ?? "";
    expect(pendingStates(bothCookie)).toHaveLength(2);
    expect(pendingStates(bothCookie)[0]).toBe(victimState);

    // 2,500 more, each from a forged address of its own (no trusted proxy): the limit for all clients holds them.
    await flood(2500, (i) => `10.66.${i >> 8}.${i & 255}`);
    const seconds = (performance.now() - started) / 1000;
    most = Math.max(most, await countAuthRequests());
    console.log(
      `[sign-in flood] 5,000 starts in ${seconds.toFixed(1)} s: ${statuses.get(303) ?? 0} redirected, ${statuses.get(429) ?? 0} answered 429; at most ${most} pending rows (cap ${CAP})`,
    );

    expect([...statuses.keys()].sort()).toEqual([303, 429]);
    // The one address gets its burst of 30; all clients together a burst of 100, refilled at 90 a minute.
    expect(statuses.get(303)).toBeGreaterThanOrEqual(30);
    expect(statuses.get(303)).toBeLessThanOrEqual(100 + Math.ceil((seconds * 90) / 60));
    expect(most).toBeLessThanOrEqual(CAP);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(body).toMatch(/^Too many sign-ins were started from your network\. Wait \d+ seconds, then try again\.\n$/);

    // The victim finishes at Microsoft and comes back with the browser's cookie, which holds both states.
    const callbackUrl = await pickAccount(sim, authorizeUrl, OWNER);
    const done = await callbackRoute(new NextRequest(callbackUrl, { headers: { cookie: `${SIGN_IN_STATE_COOKIE}=${bothCookie}` } }));
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe(`${PORTAL}/onboarding/new`);
    const sessionToken = done.cookies.get(SESSION_COOKIE)?.value ?? "";
    expect((await findSession(sha256(sessionToken)))?.user.upn).toBe(OWNER);
    // The used state is cleared; the forced one is left.
    expect(pendingStates(done.cookies.get(SIGN_IN_STATE_COOKIE)?.value)).toEqual([pendingStates(bothCookie)[1]]);
  }, 300_000);

  // 1,500 starts are enough past the cap of 1,000 to show the eviction (the 5,000 above go through the limits).
  it("holds the table at the cap when 1,500 starts bypass the rate limit: the oldest go first, recent ones complete", async () => {
    let most = 0;
    let middle: { authorizeUrl: string; state: string } | undefined;
    let recent: { authorizeUrl: string; state: string } | undefined;
    const started = performance.now();
    for (let i = 0; i < 1500; i++) {
      const begun = await beginSignIn("/estate");
      if (i === 250) middle = begun;
      if (i === 1400) recent = begun;
      if (i % 100 === 99) most = Math.max(most, await countAuthRequests());
    }
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `[sign-in flood] 1,500 beginSignIn calls without the rate limit in ${seconds.toFixed(1)} s; at most ${most} pending rows (cap ${CAP})`,
    );
    expect(most).toBe(CAP);
    expect(await countAuthRequests()).toBe(CAP);
    if (!middle || !recent) throw new Error("not started");

    // 1,249 newer starts pushed the early one out; one of the newest 1,000 completes.
    const late = await pickAccount(sim, middle.authorizeUrl, OWNER);
    expect(await completeSignIn(late.searchParams, middle.state)).toMatchObject({ ok: false, code: "expired" });
    const fresh = await pickAccount(sim, recent.authorizeUrl, OWNER);
    expect(await completeSignIn(fresh.searchParams, recent.state)).toMatchObject({ ok: true, returnTo: "/estate" });
  }, 300_000);
});
