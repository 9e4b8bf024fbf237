// Access tokens for ARM and Graph from a session's server-side MSAL cache.
import "server-only";
import { InteractionRequiredAuthError } from "@azure/msal-node";
import { decrypt, encrypt } from "@/lib/crypto";
import { findSession, updateSessionTokenCache, type SessionWithUser } from "@/lib/db/sessions";
import { encryptionKey } from "./keys";
import { createMsalClient } from "./msal";
import { scopesFor, type Resource } from "./scopes";

export type TokenResult =
  { ok: true; token: string; expiresOn: Date } | { ok: false; code: "reauth_required" | "token_failed"; message: string };

/** What the engine reports when the admin whose token it used has signed out since (or the session expired). */
export const SESSION_ENDED_MESSAGE =
  "The admin who started this work has signed out, so the portal no longer acts with their sign-in. Sign in and resume.";

/** What a user whose session's token cache can't be opened (its key is gone from the configuration) is told. */
export const SESSION_KEY_GONE_MESSAGE = "Your session was sealed with a key the portal no longer has: sign in again.";

/** A token for `resource` on behalf of the session's user; refreshed silently, never sent to the browser. */
export async function getAccessToken(session: SessionWithUser, resource: Resource): Promise<TokenResult> {
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
    console.warn(`[auth] silent token for ${resource} failed: ${error instanceof Error ? error.name : "unknown"}`);
    return { ok: false, code: "token_failed", message: "Microsoft sign-in could not issue a token just now. Try again in a moment." };
  }
}

function reauth(): TokenResult {
  return { ok: false, code: "reauth_required", message: "Your Microsoft sign-in has expired. Sign in again to continue." };
}
