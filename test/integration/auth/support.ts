// Shared setup for the sign-in integration tests: the portal's own sign-in code against one simulator, on PGlite.
import crypto from "node:crypto";
import { completeSignIn, beginSignIn } from "../../../lib/auth/sign-in";
import { pickAccount } from "../sign-in";
import type { RunningSimulator } from "../../../simulator/src/index";
import { startSimForPortal } from "../azure/support";

export { pickAccount };

/** Starts a simulator and points this process's portal configuration at it, with a random at-rest key unless given. */
export async function startSignInSimulator(env: Record<string, string> = {}): Promise<RunningSimulator> {
  const sim = await startSimForPortal();
  Object.assign(process.env, { PORTAL_URL: "http://localhost:3000", ENCRYPTION_KEY: crypto.randomBytes(32).toString("base64"), ...env });
  return sim;
}

/** A whole sign-in through lib/auth (no route handlers); returns the session cookie's token. */
export async function signIn(sim: RunningSimulator, upn: string, returnTo = "/estate"): Promise<string> {
  const { authorizeUrl, state } = await beginSignIn(returnTo);
  const callback = await pickAccount(sim, authorizeUrl, upn);
  const outcome = await completeSignIn(callback.searchParams, state);
  if (!outcome.ok) throw new Error(`sign-in failed: ${outcome.code}`);
  return outcome.sessionToken;
}

/** What the portal sealed before key ids (v1.<iv>.<tag>.<body>): the format of rows already in databases. */
export function sealV1(plaintext: string, key: Buffer, aad: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad, "utf8"));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), body.toString("base64url")].join(".");
}
