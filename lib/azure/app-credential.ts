// Signs in as an app registration the portal created (client credentials), for verification and secret rotation.
import "server-only";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { AuthError, ConfidentialClientApplication, LogLevel } from "@azure/msal-node";
import { env } from "@/lib/env";
import { AzureOperationError } from "./errors";
import { formatSeconds, MSAL_TIMEOUT_CODE, requestTimeoutMs, timedMsalNetwork } from "./timeouts";

export interface AppSecret {
  tenantId: string;
  clientId: string;
  secret: string;
}

/** The tenant-specific authority for an app, on the configured sign-in host ("…/organizations" → "…/{tenantId}"). */
export function tenantAuthority(tenantId: string, authority = env().ENTRA_AUTHORITY): string {
  const url = new URL(authority);
  const segments = url.pathname.split("/").filter(Boolean);
  segments[segments.length ? segments.length - 1 : 0] = tenantId;
  url.pathname = `/${segments.join("/")}`;
  return url.toString().replace(/\/$/, "");
}

/** Why a client-credentials sign-in failed, in the terms the callers act on. */
export type AppSignInFailure =
  /** AADSTS7000215 / 700016: a secret or app younger than Entra's replication; retrying within ~2 minutes helps. */
  | "not_yet_valid"
  /** AADSTS7000222: the secret expired. */
  | "expired"
  | "other";

const AADSTS = /AADSTS(\d+)/;

/** Classifies an MSAL/Entra sign-in error by its AADSTS code. */
export function classifyAppSignInError(error: unknown): AppSignInFailure {
  const text = error instanceof Error ? `${error.message} ${(error as { errorMessage?: string }).errorMessage ?? ""}` : String(error);
  const code = AADSTS.exec(text)?.[1];
  if (code === "7000215" || code === "700016") return "not_yet_valid";
  if (code === "7000222") return "expired";
  return "other";
}

/** A TokenCredential for the app itself; one MSAL client (and token cache) per credential. */
export function appCredential(app: AppSecret): TokenCredential {
  const authority = tenantAuthority(app.tenantId);
  let timeouts = 0;
  const client = new ConfidentialClientApplication({
    auth: {
      clientId: app.clientId,
      clientSecret: app.secret,
      authority,
      knownAuthorities: [new URL(authority).host],
    },
    system: {
      networkClient: timedMsalNetwork(() => {
        timeouts += 1;
      }),
      loggerOptions: { piiLoggingEnabled: false, logLevel: LogLevel.Error, loggerCallback: () => undefined },
    },
  });
  return {
    async getToken(scopes): Promise<AccessToken> {
      const list = (Array.isArray(scopes) ? scopes : [scopes]).map((s) =>
        s.endsWith("/.default") ? s : `${s.replace(/\/$/, "")}/.default`,
      );
      const timeoutsBefore = timeouts;
      let result: Awaited<ReturnType<typeof client.acquireTokenByClientCredential>>;
      try {
        result = await client.acquireTokenByClientCredential({ scopes: list });
      } catch (error) {
        // Transient for the engine, and never mistaken for a refused secret by acquireFirstToken.
        if ((error instanceof AuthError && error.errorCode === MSAL_TIMEOUT_CODE) || timeouts > timeoutsBefore) {
          throw new AzureOperationError(
            "timeout",
            `The sign-in authority did not answer within ${formatSeconds(requestTimeoutMs())}, so the portal could not sign in as the app. Retry in a moment.`,
          );
        }
        throw error;
      }
      if (!result?.accessToken || !result.expiresOn) throw new Error("The sign-in authority returned no access token");
      return { token: result.accessToken, expiresOnTimestamp: result.expiresOn.getTime() };
    },
  };
}

export interface WaitOptions {
  /** Give up after this long (Entra documents up to a few minutes for a new secret). Default 150 s. */
  timeoutMs?: number;
  intervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export type FirstTokenResult =
  | { ok: true; token: AccessToken; attempts: number; waitedMs: number }
  | { ok: false; failure: AppSignInFailure; attempts: number; waitedMs: number; message: string };

/**
 * Acquires a first token for `scope`, retrying while Entra still answers "invalid secret"/"unknown app" for a
 * secret or app that was just created (AADSTS7000215/700016 during replication). Any other failure returns at once.
 */
export async function acquireFirstToken(credential: TokenCredential, scope: string, options: WaitOptions = {}): Promise<FirstTokenResult> {
  const { timeoutMs = 150_000, intervalMs = 5_000, sleep = (ms) => new Promise((r) => setTimeout(r, ms)), now = Date.now } = options;
  const start = now();
  for (let attempts = 1; ; attempts++) {
    try {
      const token = await credential.getToken(scope);
      if (!token) throw new Error("The sign-in authority returned no access token");
      return { ok: true, token, attempts, waitedMs: now() - start };
    } catch (error) {
      if (error instanceof AzureOperationError && error.code === "timeout") throw error;
      const failure = classifyAppSignInError(error);
      const waitedMs = now() - start;
      if (failure !== "not_yet_valid" || waitedMs + intervalMs > timeoutMs) {
        return { ok: false, failure, attempts, waitedMs, message: signInFailureText(failure, waitedMs) };
      }
      await sleep(intervalMs);
    }
  }
}

function signInFailureText(failure: AppSignInFailure, waitedMs: number): string {
  switch (failure) {
    case "not_yet_valid":
      return `Entra still refuses the new client secret after ${Math.round(waitedMs / 1000)} s. New secrets usually work within two minutes; run the check again shortly.`;
    case "expired":
      return "The client secret has expired. Rotate it from the run page.";
    case "other":
      return "Signing in as the app failed. Check that the app registration and its secret still exist in Entra ID.";
  }
}
