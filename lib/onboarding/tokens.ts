// The acting admin's tokens from the session, in the engine's shape.
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { getAccessToken } from "@/lib/auth/tokens";
import { failure, type ActionResult } from "@/lib/action-result";
import { AzureOperationError } from "@/lib/azure/errors";
import type { SessionWithUser } from "@/lib/db/sessions";
import { credentialFor, type TokenProvider, type TokenResource, type TokenUnavailableError } from "@/lib/engine/tokens";

export type { TokenProvider };

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
