// Authorization code flow with PKCE, state and nonce: start, complete, sign out.
import "server-only";
import { log } from "@/lib/log";
import { CryptoProvider } from "@azure/msal-node";
import { z } from "zod";
import { decrypt, encrypt, randomToken, sha256 } from "@/lib/crypto";
import { consumeAuthRequest, createAuthRequest } from "@/lib/db/auth-requests";
import { recordAuditEvent } from "@/lib/db/audit";
import { createSession, deleteSession, findSession } from "@/lib/db/sessions";
import { upsertUser } from "@/lib/db/users";
import { env } from "@/lib/env";
import { rememberTenantName } from "@/lib/vendor-view/tenant-names";
import { SIGN_IN_TTL_MS } from "./cookies";
import { authorityMetadata, createMsalClient } from "./msal";
import { signInScopes } from "./scopes";
import { encryptionKey } from "./keys";

export const SIGN_IN_ERRORS = {
  state_mismatch: "This sign-in response does not belong to a sign-in started in this browser. Start again.",
  expired: "This sign-in took too long or was already used. Start again.",
  denied: "Sign-in was cancelled, or consent was not granted. An administrator must consent to the portal's permissions.",
  failed: "Microsoft sign-in did not complete. Try again; if it keeps failing, check the portal's app registration.",
} as const;
export type SignInErrorCode = keyof typeof SIGN_IN_ERRORS;

export type SignInOutcome =
  { ok: true; sessionToken: string; maxAgeSeconds: number; returnTo: string } | { ok: false; code: SignInErrorCode; message: string };

const DEFAULT_RETURN_TO = "/estate";
const MAX_RETURN_TO_LENGTH = 2048;
// Browsers drop tabs and newlines from URLs and read a backslash as "/": "/<tab>/evil" and "/<backslash>evil" leave the origin.
const CONTROL_OR_BACKSLASH = /[\u0000-\u001f\u007f-\u009f\\]/;
const WHITESPACE = /\s/;

function leavesOrigin(path: string): boolean {
  return !path.startsWith("/") || path.startsWith("//") || CONTROL_OR_BACKSLASH.test(path);
}

/** Only a same-origin path (path, query and fragment of the portal's own URL): never an open redirect. */
export function safeReturnTo(value: string | null | undefined): string {
  if (!value || value.length > MAX_RETURN_TO_LENGTH || leavesOrigin(value) || WHITESPACE.test(value)) return DEFAULT_RETURN_TO;
  // Also refused once decoded: a hop that decodes "%2F%2F", "%5C" or "%09" must not find "//", a backslash or a tab.
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    return DEFAULT_RETURN_TO;
  }
  if (leavesOrigin(decoded)) return DEFAULT_RETURN_TO;
  const origin = new URL(env().PORTAL_URL).origin;
  const url = new URL(value, origin);
  if (url.origin !== origin) return DEFAULT_RETURN_TO;
  const path = `${url.pathname}${url.search}${url.hash}`;
  return leavesOrigin(path) ? DEFAULT_RETURN_TO : path;
}

export function redirectUri(): string {
  return `${env().PORTAL_URL}/auth/callback`;
}

/** Start a sign-in: persist the PKCE verifier and nonce server-side, return the authorize URL and the browser binding. */
export async function beginSignIn(returnTo: string | null): Promise<{ authorizeUrl: string; state: string }> {
  const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
  const state = randomToken();
  const nonce = randomToken();
  const stateHash = sha256(state);
  await createAuthRequest(
    {
      stateHash,
      codeVerifier: encrypt(verifier, encryptionKey(), stateHash),
      nonce,
      returnTo: safeReturnTo(returnTo),
      expiresAt: new Date(Date.now() + SIGN_IN_TTL_MS),
    },
    env().SIGN_IN_PENDING_MAX,
  );
  const client = await createMsalClient();
  const authorizeUrl = await client.getAuthCodeUrl({
    ...signInScopes(),
    redirectUri: redirectUri(),
    codeChallenge: challenge,
    codeChallengeMethod: "S256",
    state,
    nonce,
    prompt: "select_account",
  });
  return { authorizeUrl, state };
}

const callbackSchema = z.union([
  z.object({ code: z.string().min(1), state: z.string().min(1) }),
  z.object({ error: z.string().min(1), state: z.string().optional(), error_description: z.string().optional() }),
]);

const idClaimsSchema = z.object({
  oid: z.string().min(1),
  tid: z.string().min(1),
  nonce: z.string().optional(),
  preferred_username: z.string().optional(),
  upn: z.string().optional(),
  name: z.string().optional(),
});

function fail(code: SignInErrorCode): SignInOutcome {
  return { ok: false, code, message: SIGN_IN_ERRORS[code] };
}

/**
 * Finish a sign-in from the callback's query; creates the session only when state, PKCE and nonce all check out.
 * `browserStates`: the states of the sign-ins this browser started (its state cookie).
 */
export async function completeSignIn(
  query: URLSearchParams,
  browserStates: string | readonly string[] | undefined,
): Promise<SignInOutcome> {
  const parsed = callbackSchema.safeParse(Object.fromEntries(query));
  if (!parsed.success) return fail("failed");
  const params = parsed.data;
  const states = typeof browserStates === "string" ? [browserStates] : (browserStates ?? []);
  if (!params.state || !states.includes(params.state)) return fail("state_mismatch");
  const stateHash = sha256(params.state);
  const pending = await consumeAuthRequest(stateHash);
  if (!pending) return fail("expired");
  if ("error" in params) return fail(params.error === "access_denied" || params.error === "consent_required" ? "denied" : "failed");

  let codeVerifier: string;
  try {
    codeVerifier = decrypt(pending.codeVerifier, encryptionKey(), stateHash);
  } catch {
    // Sealed with a key the portal no longer has: starting again is all the user can do.
    return fail("expired");
  }
  const client = await createMsalClient();
  let result;
  try {
    result = await client.acquireTokenByCode(
      {
        code: params.code,
        scopes: signInScopes().scopes,
        redirectUri: redirectUri(),
        codeVerifier,
        nonce: pending.nonce,
        state: params.state,
      },
      { code: params.code, state: params.state },
    );
  } catch (error) {
    log().warn(
      { event: "auth.code_exchange_failed", error: error instanceof Error ? error.name : "unknown error" },
      "sign-in code exchange failed",
    );
    return fail("failed");
  }
  const claims = idClaimsSchema.safeParse(result.idTokenClaims);
  // MSAL checks the nonce too; checked again here because the session rests on it.
  if (!claims.success || claims.data.nonce !== pending.nonce || !result.account) return fail("failed");

  const user = await upsertUser({
    tenantId: claims.data.tid,
    objectId: claims.data.oid,
    upn: claims.data.preferred_username ?? claims.data.upn ?? result.account.username,
    displayName: claims.data.name ?? result.account.name ?? result.account.username,
  });
  // The sign-in's token is for ARM (signInScopes): enough to read the tenant's display name for the vendor's list.
  await rememberTenantName({ token: result.accessToken, expiresOn: result.expiresOn ?? new Date(Date.now() + 60_000) }, user.tenantId);
  const sessionToken = randomToken();
  const tokenHash = sha256(sessionToken);
  const maxAgeSeconds = env().SESSION_TTL_HOURS * 3600;
  await createSession({
    tokenHash,
    userId: user.id,
    homeAccountId: result.account.homeAccountId,
    tokenCache: encrypt(client.getTokenCache().serialize(), encryptionKey(), tokenHash),
    expiresAt: new Date(Date.now() + maxAgeSeconds * 1000),
  });
  await recordAuditEvent({
    tenantId: user.tenantId,
    actorUserId: user.id,
    actorUpn: user.upn,
    action: "auth.sign_in",
    outcome: "success",
  });
  return { ok: true, sessionToken, maxAgeSeconds, returnTo: pending.returnTo };
}

/** End a session server-side; returns where to send the browser to end the Microsoft session too. */
export async function signOut(sessionToken: string | undefined): Promise<string> {
  if (sessionToken) {
    const tokenHash = sha256(sessionToken);
    const session = await findSession(tokenHash);
    await deleteSession(tokenHash);
    if (session) {
      await recordAuditEvent({
        tenantId: session.user.tenantId,
        actorUserId: session.user.id,
        actorUpn: session.user.upn,
        action: "auth.sign_out",
        outcome: "success",
      });
    }
  }
  const home = `${env().PORTAL_URL}/`;
  const meta = await authorityMetadata().catch(() => undefined);
  if (!meta?.end_session_endpoint) return home;
  const url = new URL(meta.end_session_endpoint);
  url.searchParams.set("post_logout_redirect_uri", home);
  return url.toString();
}
