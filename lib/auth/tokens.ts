// The signed-in admin's delegated tokens, in one place: read from the session's server-side MSAL cache, handed to the
// engine as a TokenProvider, and given to the Azure SDKs as a TokenCredential.
import "server-only";
import { log } from "@/lib/log";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { InteractionRequiredAuthError } from "@azure/msal-node";
import { failure, type ActionResult } from "@/lib/action-result";
import { AzureOperationError } from "@/lib/azure/errors";
import { decrypt, encrypt } from "@/lib/crypto";
import { findSession, updateSessionTokenCache, type SessionWithUser } from "@/lib/db/sessions";
import { encryptionKey } from "./keys";
import { createMsalClient } from "./msal";
import { scopesFor, type Resource } from "./scopes";

/** Which API a token is for. */
export type TokenResource = Resource;

export type TokenResult =
  { ok: true; token: string; expiresOn: Date } | { ok: false; code: "reauth_required" | "token_failed"; message: string };

/** What the engine reports when the admin whose token it used has signed out since (or the session expired). */
export const SESSION_ENDED_MESSAGE =
  "The admin who started this work has signed out, so the portal no longer acts with their sign-in. Sign in and resume.";

/** What a user whose session's token cache can't be opened (its key is gone from the configuration) is told. */
export const SESSION_KEY_GONE_MESSAGE = "Your session was sealed with a key the portal no longer has: sign in again.";

/** A token for `resource` on behalf of the session's user; refreshed silently, never sent to the browser. */
export async function getAccessToken(session: SessionWithUser, resource: TokenResource): Promise<TokenResult> {
  let unreadable = false;
  let ended = false;
  const client = await createMsalClient({
    load: async () => {
      const fresh = await findSession(session.tokenHash);
      // Signed out (or expired): the refresh token in memory is not used to start anything new.
      if (!fresh) {
        ended = true;
        return undefined;
      }
      const sealed = fresh.tokenCache;
      try {
        return decrypt(sealed, encryptionKey(), session.tokenHash);
      } catch {
        // An empty cache has no account, so the caller asks for a new sign-in instead of failing on the error.
        unreadable = true;
        return undefined;
      }
    },
    save: (serialized) => updateSessionTokenCache(session.tokenHash, encrypt(serialized, encryptionKey(), session.tokenHash)),
  });
  try {
    const account = await client.getTokenCache().getAccountByHomeId(session.homeAccountId);
    if (ended) return { ok: false, code: "reauth_required", message: SESSION_ENDED_MESSAGE };
    if (unreadable) return { ok: false, code: "reauth_required", message: SESSION_KEY_GONE_MESSAGE };
    if (!account) return reauth();
    const result = await client.acquireTokenSilent({ account, scopes: scopesFor(resource) });
    return { ok: true, token: result.accessToken, expiresOn: result.expiresOn ?? new Date(Date.now() + 5 * 60_000) };
  } catch (error) {
    if (error instanceof InteractionRequiredAuthError) return reauth();
    log().warn(
      { event: "auth.token_failed", resource, error: error instanceof Error ? error.name : "unknown" },
      `silent token for ${resource} failed`,
    );
    return { ok: false, code: "token_failed", message: "Microsoft sign-in could not issue a token just now. Try again in a moment." };
  }
}

function reauth(): TokenResult {
  return { ok: false, code: "reauth_required", message: "Your Microsoft sign-in has expired. Sign in again to continue." };
}

/** Supplies the admin's token; an expected failure (sign-in expired, consent missing) is a value, not a throw. */
export type TokenProvider = (
  resource: TokenResource,
) => Promise<{ ok: true; token: string; expiresOn: Date } | { ok: false; code: string; message: string }>;

/** The admin's token could not be obtained: the step is handed back until they sign in again. */
export class TokenUnavailableError extends Error {
  constructor(
    readonly resource: TokenResource,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "TokenUnavailableError";
  }
}

// Reuse a token until shortly before it expires: providers may refresh through the network on every call.
const REFRESH_BEFORE_MS = 2 * 60_000;

/**
 * A TokenCredential over the provider. A failure is reported to `onFailure` as well as thrown, because the SDKs wrap
 * what getToken throws and the engine must still recognise "sign in again" behind their error.
 */
export function credentialFor(
  tokens: TokenProvider,
  resource: TokenResource,
  onFailure: (error: TokenUnavailableError) => void,
): TokenCredential {
  let cached: { token: string; expiresOn: Date } | undefined;
  return delegatedCredential(async () => {
    if (cached && cached.expiresOn.getTime() - REFRESH_BEFORE_MS > Date.now()) return cached;
    let result: Awaited<ReturnType<TokenProvider>>;
    try {
      result = await tokens(resource);
    } catch {
      result = {
        ok: false,
        code: "reauth_required",
        message: "Your Microsoft sign-in could not be refreshed. Sign in again, then resume.",
      };
    }
    if (!result.ok) {
      const error = new TokenUnavailableError(resource, result.code, result.message);
      onFailure(error);
      throw error;
    }
    cached = { token: result.token, expiresOn: result.expiresOn };
    return cached;
  });
}

/** Tokens from the session's server-side cache, refreshed silently. */
export function sessionTokens(session: SessionWithUser): TokenProvider {
  return (resource) => getAccessToken(session, resource);
}

/** An SDK credential that remembers a sign-in failure: the SDKs wrap what getToken throws, so callers ask afterwards. */
export function trackedCredential(
  tokens: TokenProvider,
  resource: TokenResource,
): { credential: TokenCredential; failure: () => TokenUnavailableError | undefined } {
  let failed: TokenUnavailableError | undefined;
  const credential = credentialFor(tokens, resource, (error) => {
    failed = error;
  });
  return { credential, failure: () => failed };
}

/** The failed ActionResult for an error thrown while reading Azure with a tracked credential; rethrows bugs. */
export function readFailure(error: unknown, tracked: { failure: () => TokenUnavailableError | undefined }): ActionResult<never> {
  const signIn = tracked.failure();
  if (signIn) return failure(signIn.message, { code: signIn.code });
  if (error instanceof AzureOperationError) return failure(error.message, { code: error.code });
  throw error;
}

/** Where a delegated credential gets its token from (already cached or refreshed as the source sees fit). */
export type TokenSource = () => Promise<{ token: string; expiresOn: Date }>;

/** A TokenCredential that always answers with the signed-in admin's token for one resource. */
export function delegatedCredential(source: TokenSource): TokenCredential {
  return {
    async getToken(_scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
      // The SDK passes the request's signal (its time limit included): a token refresh that hangs fails the request.
      const { token, expiresOn } = await untilAborted(source(), options?.abortSignal);
      return { token, expiresOnTimestamp: expiresOn.getTime() };
    },
  };
}

function untilAborted<T>(work: Promise<T>, signal: GetTokenOptions["abortSignal"]): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(new DOMException("The token request was aborted", "AbortError"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DOMException("The token request was aborted", "AbortError"));
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
