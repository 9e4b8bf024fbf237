// Adapts the session's delegated token to the Azure SDKs' TokenCredential.
import type { AccessToken, TokenCredential } from "@azure/core-auth";

export type TokenSource = () => Promise<{ token: string; expiresOn: Date }>;

/** A TokenCredential that always answers with the signed-in admin's token for one resource. */
export function delegatedCredential(source: TokenSource): TokenCredential {
  return {
    async getToken(): Promise<AccessToken> {
      const { token, expiresOn } = await source();
      return { token, expiresOnTimestamp: expiresOn.getTime() };
    },
  };
}
