// Key rotation of what sign-in seals (sessions' token caches, pending sign-ins), through the portal's own sign-in code
// against the simulator: the previous key still opens, rows from before key ids stay readable, and a session sealed
// with a key the portal no longer has asks the user to sign in again instead of failing.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptionKey } from "../../../lib/auth/keys";
import { beginSignIn, completeSignIn } from "../../../lib/auth/sign-in";
import { getAccessToken, SESSION_KEY_GONE_MESSAGE } from "../../../lib/auth/tokens";
import { decrypt, encrypt, keyId, sha256 } from "../../../lib/crypto";
import { closeDb, configureDb, findSession, migrate, updateSessionTokenCache, type SessionWithUser } from "../../../lib/db";
import { db } from "../../../lib/db/client";
import { loadEstate } from "../../../lib/estate/load-estate";
import type { RunningSimulator } from "../../../simulator/src/index";
import { OWNER } from "../azure/support";
import { pickAccount, sealV1, signIn, startSignInSimulator } from "./support";
import { testDbOptions } from "../../support/pglite-template";

const current = crypto.randomBytes(32);
const previous = crypto.randomBytes(32);
let sim: RunningSimulator;
const dataDir = path.join(".test-data", `session-keys-${crypto.randomBytes(4).toString("hex")}`);

beforeAll(async () => {
  sim = await startSignInSimulator({ ENCRYPTION_KEY: current.toString("base64"), ENCRYPTION_KEY_PREVIOUS: previous.toString("base64") });
  configureDb(testDbOptions(dataDir));
  await migrate();
}, 60_000);
afterAll(async () => {
  await closeDb();
  await sim?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function signedInSession(): Promise<SessionWithUser> {
  const session = await findSession(sha256(await signIn(sim, OWNER)));
  if (!session) throw new Error("no session");
  return session;
}

/** The session's token cache re-sealed by `seal`, as a row written under another configuration would hold it. */
async function resealed(session: SessionWithUser, seal: (plain: string) => string): Promise<SessionWithUser> {
  await updateSessionTokenCache(session.tokenHash, seal(decrypt(session.tokenCache, encryptionKey(), session.tokenHash)));
  const fresh = await findSession(session.tokenHash);
  if (!fresh) throw new Error("session gone");
  return fresh;
}

describe("at-rest keys of sign-in", () => {
  it("seals new sessions with the current key's id, and opens caches the previous key sealed, re-sealing them with the current one", async () => {
    const session = await signedInSession();
    expect(session.tokenCache.split(".").slice(0, 2)).toEqual(["v2", keyId(current)]);

    const old = await resealed(session, (plain) => encrypt(plain, previous, session.tokenHash));
    expect(old.tokenCache.split(".")[1]).toBe(keyId(previous));
    expect(await getAccessToken(old, "arm")).toMatchObject({ ok: true });
    // A token for the other resource changes the cache, which is saved under the current key.
    expect(await getAccessToken(old, "graph")).toMatchObject({ ok: true });
    expect((await findSession(session.tokenHash))?.tokenCache.split(".").slice(0, 2)).toEqual(["v2", keyId(current)]);
  });

  it("reads sessions sealed before key ids, with the current or the previous key", async () => {
    const session = await signedInSession();
    expect(await getAccessToken(await resealed(session, (plain) => sealV1(plain, current, session.tokenHash)), "arm")).toMatchObject({
      ok: true,
    });
    expect(await getAccessToken(await resealed(session, (plain) => sealV1(plain, previous, session.tokenHash)), "arm")).toMatchObject({
      ok: true,
    });
  });

  it("tells the user to sign in again when the session was sealed with a key the portal no longer has", async () => {
    const gone = crypto.randomBytes(32);
    const expected = { ok: false, code: "reauth_required", message: SESSION_KEY_GONE_MESSAGE };
    expect(SESSION_KEY_GONE_MESSAGE).toBe("Your session was sealed with a key the portal no longer has: sign in again.");

    const session = await signedInSession();
    const withKeyId = await resealed(session, (plain) => encrypt(plain, gone, session.tokenHash));
    expect(await getAccessToken(withKeyId, "arm")).toEqual(expected);
    // What the estate page shows, next to its "Sign in again" link.
    expect(await loadEstate(withKeyId)).toEqual(expected);

    const other = await signedInSession();
    const legacy = await resealed(other, (plain) => sealV1(plain, gone, other.tokenHash));
    expect(await getAccessToken(legacy, "graph")).toEqual(expected);
  });

  it("ends a pending sign-in sealed with a key the portal no longer has as 'start again', not an error", async () => {
    const { authorizeUrl, state } = await beginSignIn("/estate");
    const stateHash = sha256(state);
    const prisma = await db();
    const row = await prisma.authRequest.findUniqueOrThrow({ where: { id: stateHash } });
    expect(row.codeVerifier.split(".").slice(0, 2)).toEqual(["v2", keyId(current)]);
    await prisma.authRequest.update({
      where: { id: stateHash },
      data: { codeVerifier: encrypt("verifier", crypto.randomBytes(32), stateHash) },
    });
    const callback = await pickAccount(sim, authorizeUrl, OWNER);
    expect(await completeSignIn(callback.searchParams, state)).toMatchObject({ ok: false, code: "expired" });
  });

  it("completes a pending sign-in whose verifier was sealed before key ids", async () => {
    const { authorizeUrl, state } = await beginSignIn("/estate");
    const stateHash = sha256(state);
    const prisma = await db();
    const row = await prisma.authRequest.findUniqueOrThrow({ where: { id: stateHash } });
    const verifier = decrypt(row.codeVerifier, encryptionKey(), stateHash);
    await prisma.authRequest.update({ where: { id: stateHash }, data: { codeVerifier: sealV1(verifier, previous, stateHash) } });
    const callback = await pickAccount(sim, authorizeUrl, OWNER);
    expect(await completeSignIn(callback.searchParams, state)).toMatchObject({ ok: true });
  });
});
