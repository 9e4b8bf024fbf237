// The acting admin's delegated tokens, as the engine receives them and as the Azure SDKs consume them.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { delegatedCredential } from "@/lib/azure/credential";

/** Which API a token is for. */
export type TokenResource = "arm" | "graph";

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
