// One HTTPS agent for every ARM client: kept-alive connections and one TLS context for all of them.
import "server-only";
import https from "node:https";
import tls from "node:tls";
import { env } from "@/lib/env";
import { ARM_MAX_IN_FLIGHT } from "./in-flight";

let agent: https.Agent | undefined;

/**
 * The shared agent. Node builds a TLS context (the whole CA store) for every new connection unless one is given; a
 * step with hundreds of calls side by side opens hundreds of connections, and those contexts were a visible share of
 * the engine's CPU. The default context includes NODE_EXTRA_CA_CERTS, like Node's own.
 */
export function armHttpsAgent(): https.Agent | undefined {
  // A request that carries an agent bypasses the SDK's proxy policy: behind a proxy, leave the agent to the SDK.
  const e = env();
  if (e.HTTPS_PROXY ?? e.https_proxy) return undefined;
  // As many idle connections kept as requests may be in flight: a burst's connections serve the next round too.
  agent ??= new https.Agent({ keepAlive: true, maxFreeSockets: ARM_MAX_IN_FLIGHT, secureContext: tls.createSecureContext() });
  return agent;
}
