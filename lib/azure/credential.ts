// Adapts the session's delegated token to the Azure SDKs' TokenCredential.
import "server-only";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";

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
