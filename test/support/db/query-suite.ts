// Shared vitest suite for the query functions, run against PGlite and PostgreSQL. Test-only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumeAuthRequest, createAuthRequest } from "@/lib/db/auth-requests";
import { listAuditEvents, recordAuditEvent } from "@/lib/db/audit";
import { closeDb, configureDb, db, migrate, type DbOptions } from "@/lib/db/client";
import { createSession, deleteExpiredSessions, deleteSession, findSession, updateSessionTokenCache } from "@/lib/db/sessions";
import { upsertUser } from "@/lib/db/users";

const MINUTE = 60_000;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now()}-${++seq}`;
const inMs = (ms: number) => new Date(Date.now() + ms);

/** Registers the query-function tests on the database that `options()` describes (resolved in beforeAll). */
export function describeQueries(label: string, options: () => DbOptions): void {
  describe(`lib/db queries on ${label}`, () => {
    beforeAll(async () => {
      configureDb(options());
      await migrate();
    }, 120_000);
    afterAll(() => closeDb());

    const newUser = (tenantId = unique("tenant")) =>
      upsertUser({ tenantId, objectId: unique("oid"), upn: "admin@contoso.example", displayName: "Admin" });

    it("upsertUser creates once, then refreshes name, upn and lastSignInAt", async () => {
      const first = await newUser();
      await new Promise((r) => setTimeout(r, 5));
      const again = await upsertUser({
        tenantId: first.tenantId,
        objectId: first.objectId,
        upn: "new@contoso.example",
        displayName: "New",
      });
      expect(again.id).toBe(first.id);
      expect(again.upn).toBe("new@contoso.example");
      expect(again.displayName).toBe("New");
      expect(again.createdAt).toEqual(first.createdAt);
      expect(again.lastSignInAt.getTime()).toBeGreaterThan(first.lastSignInAt.getTime());
    });

    it("upsertUser is safe under concurrent first sign-ins of the same person", async () => {
      const claims = { tenantId: unique("tenant"), objectId: unique("oid"), upn: "a@contoso.example", displayName: "A" };
      const users = await Promise.all(Array.from({ length: 6 }, () => upsertUser(claims)));
      expect(new Set(users.map((u) => u.id)).size).toBe(1);
    });

    it("finds a live session with its user, not an expired or deleted one", async () => {
      const user = await newUser();
      const live = unique("live");
      const expired = unique("expired");
      await createSession({ tokenHash: live, userId: user.id, homeAccountId: "home", tokenCache: "sealed-1", expiresAt: inMs(MINUTE) });
      await createSession({ tokenHash: expired, userId: user.id, homeAccountId: "home", tokenCache: "sealed", expiresAt: inMs(-1) });

      const found = await findSession(live);
      expect(found).toMatchObject({ tokenHash: live, userId: user.id, homeAccountId: "home", tokenCache: "sealed-1" });
      expect(found?.user).toEqual(user);
      expect(await findSession(expired)).toBeNull();
      expect(await findSession(unique("missing"))).toBeNull();

      await updateSessionTokenCache(live, "sealed-2");
      expect((await findSession(live))?.tokenCache).toBe("sealed-2");
      await updateSessionTokenCache(unique("missing"), "x"); // no throw

      expect(await deleteExpiredSessions()).toBeGreaterThanOrEqual(1);
      expect(await deleteSession(expired)).toBe(false);
      expect(await deleteSession(live)).toBe(true);
      expect(await findSession(live)).toBeNull();
    });

    it("touches lastSeenAt at most once a minute", async () => {
      const user = await newUser();
      const tokenHash = unique("seen");
      const created = await createSession({ tokenHash, userId: user.id, homeAccountId: "h", tokenCache: "c", expiresAt: inMs(MINUTE) });
      expect((await findSession(tokenHash))?.lastSeenAt).toEqual(created.lastSeenAt);

      const prisma = await db();
      const old = new Date(Date.now() - 2 * MINUTE);
      await prisma.session.update({ where: { id: tokenHash }, data: { lastSeenAt: old } });
      const touched = await findSession(tokenHash);
      expect(touched!.lastSeenAt.getTime()).toBeGreaterThan(old.getTime() + MINUTE);
      const row = await prisma.session.findUniqueOrThrow({ where: { id: tokenHash } });
      expect(row.lastSeenAt).toEqual(touched!.lastSeenAt);
    });

    it("deletes a user's sessions with the user", async () => {
      const user = await newUser();
      const tokenHash = unique("cascade");
      await createSession({ tokenHash, userId: user.id, homeAccountId: "h", tokenCache: "c", expiresAt: inMs(MINUTE) });
      await (await db()).user.delete({ where: { id: user.id } });
      expect(await findSession(tokenHash)).toBeNull();
    });

    it("consumes an auth request once; expired or unknown ones give null", async () => {
      const stateHash = unique("state");
      const created = await createAuthRequest({ stateHash, codeVerifier: "v", nonce: "n", returnTo: "/clusters", expiresAt: inMs(MINUTE) });
      expect(created.stateHash).toBe(stateHash);
      const taken = await consumeAuthRequest(stateHash);
      expect(taken).toEqual(created);
      expect(await consumeAuthRequest(stateHash)).toBeNull();

      const expired = unique("state");
      await createAuthRequest({ stateHash: expired, codeVerifier: "v", nonce: "n", returnTo: "/", expiresAt: inMs(-1) });
      expect(await consumeAuthRequest(expired)).toBeNull();
      expect(await (await db()).authRequest.count({ where: { id: expired } })).toBe(0);
      expect(await consumeAuthRequest(unique("state"))).toBeNull();
    });

    it("lets exactly one of concurrent consumers take an auth request", async () => {
      for (let round = 0; round < 5; round++) {
        const stateHash = unique("race");
        await createAuthRequest({ stateHash, codeVerifier: "v", nonce: "n", returnTo: "/", expiresAt: inMs(MINUTE) });
        const results = await Promise.all(Array.from({ length: 8 }, () => consumeAuthRequest(stateHash)));
        expect(results.filter((r) => r !== null)).toHaveLength(1);
      }
    });

    it("lists a tenant's audit events newest first, with limit, JSON detail and actor kept as upn", async () => {
      const user = await newUser();
      const other = unique("tenant");
      const actions = ["auth.sign_in", "a.1", "a.2", "a.3", "auth.sign_out"];
      for (const action of actions) {
        await recordAuditEvent({ tenantId: user.tenantId, actorUserId: user.id, actorUpn: user.upn, action, outcome: "success" });
      }
      await recordAuditEvent({
        tenantId: other,
        actorUpn: "x@y",
        action: "auth.sign_in",
        outcome: "denied",
        target: "t",
        detail: { reason: "tenant", n: [1, null] },
      });

      const events = await listAuditEvents(user.tenantId, { limit: 10 });
      expect(events.map((e) => e.action)).toEqual([...actions].reverse());
      expect(events[0]).toMatchObject({ actorUserId: user.id, actorUpn: user.upn, outcome: "success", target: null, detail: null });
      expect(await listAuditEvents(user.tenantId, { limit: 2 })).toEqual(events.slice(0, 2));

      const [denied] = await listAuditEvents(other, { limit: 10 });
      expect(denied).toMatchObject({ outcome: "denied", target: "t", actorUserId: null, detail: { reason: "tenant", n: [1, null] } });

      await (await db()).user.delete({ where: { id: user.id } });
      const after = await listAuditEvents(user.tenantId, { limit: 10 });
      expect(after).toHaveLength(actions.length);
      expect(after.every((e) => e.actorUserId === null && e.actorUpn === user.upn)).toBe(true);
    });
  });
}
