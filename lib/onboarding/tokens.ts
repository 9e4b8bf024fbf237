// The acting admin's tokens, as the engine asks for them.
import { getAccessToken, type TokenResult } from "@/lib/auth/tokens";
import { delegatedCredential } from "@/lib/azure/credential";
import { AzureOperationError } from "@/lib/azure/errors";
import type { SessionWithUser } from "@/lib/db/sessions";
import type { TokenCredential } from "@azure/core-auth";

export type TokenProvider = (resource: "arm" | "graph") => Promise<TokenResult>;

/** Tokens from the session's server-side cache, refreshed silently. */
export function sessionTokens(session: SessionWithUser): TokenProvider {
  return (resource) => getAccessToken(session, resource);
}

/** An SDK credential for one resource; a failed token becomes an actionable error. */
export function credentialFor(tokens: TokenProvider, resource: "arm" | "graph"): TokenCredential {
  return delegatedCredential(async () => {
    const t = await tokens(resource);
    if (!t.ok) throw new AzureOperationError("reauth_required", t.message);
    return t;
  });
}
