// MSAL Node confidential client for the portal's own app registration.
import "server-only";
import { log } from "@/lib/log";
import { ConfidentialClientApplication, LogLevel, type ICachePlugin, type TokenCacheContext } from "@azure/msal-node";
import { z } from "zod";
import { deadline, formatSeconds, requestTimeoutMs, timedMsalNetwork } from "@/lib/azure/timeouts";
import { env } from "@/lib/env";

const oidcMetadataSchema = z.object({
  issuer: z.string(),
  authorization_endpoint: z.string().url(),
  token_endpoint: z.string().url(),
  end_session_endpoint: z.string().url().optional(),
  jwks_uri: z.string().url(),
});
export type OidcMetadata = z.infer<typeof oidcMetadataSchema>;

let metadata: Promise<OidcMetadata> | undefined;

/**
 * The authority's OpenID configuration, fetched once per process (MSAL would fetch it per client). Only a success is
 * kept: every sign-in waits on this promise, so a failed or timed-out fetch is forgotten and the next sign-in fetches anew.
 */
export function authorityMetadata(): Promise<OidcMetadata> {
  const attempt = (metadata ??= fetchMetadata().catch((error: unknown) => {
    if (metadata === attempt) metadata = undefined;
    throw error;
  }));
  return attempt;
}

async function fetchMetadata(): Promise<OidcMetadata> {
  const url = `${env().ENTRA_AUTHORITY}/v2.0/.well-known/openid-configuration`;
  const ms = requestTimeoutMs();
  // The limit covers the body as well: a server that sends headers and then stalls must not hold every sign-in.
  const limit = deadline(ms);
  try {
    const res = await fetch(url, { cache: "no-store", signal: limit.signal });
    if (!res.ok) throw new Error(`Sign-in authority answered ${res.status} for its OpenID configuration`);
    return oidcMetadataSchema.parse(await res.json());
  } catch (error) {
    if (limit.timedOut())
      throw new Error(`Sign-in authority did not answer within ${formatSeconds(ms)} for its OpenID configuration`, { cause: error });
    throw error;
  }
}

/** Where an MSAL token cache is loaded from and saved to (already decrypted/encrypted by the caller). */
export interface CacheStore {
  load(): Promise<string | undefined>;
  save(serialized: string): Promise<void>;
}

function cachePlugin(store: CacheStore): ICachePlugin {
  return {
    async beforeCacheAccess(ctx: TokenCacheContext) {
      const blob = await store.load();
      if (blob) ctx.tokenCache.deserialize(blob);
    },
    async afterCacheAccess(ctx: TokenCacheContext) {
      if (ctx.cacheHasChanged) await store.save(ctx.tokenCache.serialize());
    },
  };
}

/** A confidential client; with `store`, its cache is one session's cache. */
export async function createMsalClient(store?: CacheStore): Promise<ConfidentialClientApplication> {
  const e = env();
  const meta = await authorityMetadata();
  return new ConfidentialClientApplication({
    auth: {
      clientId: e.ENTRA_CLIENT_ID,
      clientSecret: e.ENTRA_CLIENT_SECRET,
      authority: e.ENTRA_AUTHORITY,
      // A known authority with given metadata: no instance discovery and no metadata fetch per client.
      knownAuthorities: [new URL(e.ENTRA_AUTHORITY).host],
      authorityMetadata: JSON.stringify(meta),
    },
    cache: store ? { cachePlugin: cachePlugin(store) } : undefined,
    system: {
      // Token redemption and refresh: a hung authority fails the sign-in or the step's token request instead of holding it.
      networkClient: timedMsalNetwork(),
      loggerOptions: {
        piiLoggingEnabled: false,
        logLevel: LogLevel.Warning,
        loggerCallback: (level, message) => {
          if (level <= LogLevel.Warning) log().warn({ event: "msal" }, message);
        },
      },
    },
  });
}
