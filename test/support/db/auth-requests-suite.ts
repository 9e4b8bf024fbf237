// Shared vitest suite for the bound on pending sign-ins, run against PGlite and PostgreSQL. Test-only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumeAuthRequest, countAuthRequests, createAuthRequest } from "@/lib/db/auth-requests";
import { closeDb, configureDb, db, migrate, type DbOptions } from "@/lib/db/client";

const MINUTE = 60_000;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now()}-${++seq}`;

async function clear(): Promise<void> {
  await (await db()).authRequest.deleteMany();
}

/** Registers the auth-request bound tests on the database that `options()` describes (resolved in beforeAll). */
export function describeAuthRequestBound(label: string, options: () => DbOptions): void {
  describe(`pending sign-ins on ${label}`, () => {
    beforeAll(async () => {
      configureDb(options());
      await migrate();
    }, 120_000);
    afterAll(() => closeDb());

    it("holds at most the cap through five times as many inserts, dropping the oldest first", async () => {
      await clear();
      const cap = 300;
      const base = Date.now() + 10 * MINUTE;
      const hashes: string[] = [];
      let most = 0;
      const started = performance.now();
      for (let i = 0; i < 5 * cap; i++) {
        const stateHash = unique("flood");
        hashes.push(stateHash);
        // Later starts expire later, as with one fixed lifetime.
        await createAuthRequest({ stateHash, codeVerifier: "v", nonce: "n", returnTo: "/", expiresAt: new Date(base + i) }, cap);
        if (i % 50 === 49) most = Math.max(most, await countAuthRequests());
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(`[auth-requests ${label}] ${5 * cap} inserts with cap ${cap}: ${seconds.toFixed(1)} s, at most ${most} rows`);
      expect(most).toBe(cap);
      expect(await countAuthRequests()).toBe(cap);
      const kept = await (await db()).authRequest.findMany({ select: { id: true } });
      expect(new Set(kept.map((r) => r.id))).toEqual(new Set(hashes.slice(-cap)));
      expect(await consumeAuthRequest(hashes[0] ?? "")).toBeNull();
      expect(await consumeAuthRequest(hashes.at(-1) ?? "")).toMatchObject({ stateHash: hashes.at(-1) });
    }, 300_000);

    it("deletes expired sign-ins when it inserts", async () => {
      await clear();
      for (let i = 0; i < 20; i++) {
        await (
          await db()
        ).authRequest.create({
          data: { id: unique("expired"), codeVerifier: "v", nonce: "n", returnTo: "/", expiresAt: new Date(Date.now() - 1000) },
        });
      }
      const live = unique("live");
      await createAuthRequest(
        { stateHash: live, codeVerifier: "v", nonce: "n", returnTo: "/", expiresAt: new Date(Date.now() + MINUTE) },
        1000,
      );
      expect(await (await db()).authRequest.findMany({ select: { id: true } })).toEqual([{ id: live }]);
    });

    it("keeps the bound when sign-ins start concurrently", async () => {
      await clear();
      const cap = 100;
      for (let round = 0; round < 3; round++) {
        await Promise.all(
          Array.from({ length: 150 }, (_, i) =>
            createAuthRequest(
              { stateHash: unique("race"), codeVerifier: "v", nonce: "n", returnTo: "/", expiresAt: new Date(Date.now() + MINUTE + i) },
              cap,
            ),
          ),
        );
        expect(await countAuthRequests()).toBe(cap);
      }
    }, 120_000);
  });
}
