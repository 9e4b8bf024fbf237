// The portal's real sign-in against a simulator, as a browser would do it: portal → account picker → callback → session.
import { beginSignIn, completeSignIn } from "../../lib/auth/sign-in";
import { sha256 } from "../../lib/crypto";
import { findSession, type SessionWithUser } from "../../lib/db";
import type { RunningSimulator } from "../../simulator/src/index";

const unescape = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&");

// The simulator closes idle keep-alive connections after 5 s: on a loaded machine a reused one can be reset mid-request.
async function fetchOnceMore(url: string | URL, init?: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    return fetch(url, init);
  }
}

/** What the browser does at Microsoft: open the authorize URL, pick `upn`; returns the portal callback URL it is sent to. */
export async function pickAccount(sim: RunningSimulator, authorizeUrl: string, upn: string): Promise<URL> {
  const html = await (await fetchOnceMore(authorizeUrl)).text();
  const action = unescape(/<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? "");
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    form.append(unescape(m[1] ?? ""), unescape(m[2] ?? ""));
  form.set("login_upn", upn);
  const res = await fetchOnceMore(new URL(action, sim.url), { method: "POST", body: form, redirect: "manual" });
  return new URL(res.headers.get("location") ?? "");
}

/** A signed-in session for `upn` (with its server-side token cache) and the cookie value that names it. */
export async function signInThroughSimulator(
  sim: RunningSimulator,
  upn: string,
  returnTo = "/estate",
): Promise<{ session: SessionWithUser; cookie: string }> {
  const { authorizeUrl, state } = await beginSignIn(returnTo);
  const callback = await pickAccount(sim, authorizeUrl, upn);
  const outcome = await completeSignIn(callback.searchParams, state);
  if (!outcome.ok) throw new Error(`sign-in failed: ${outcome.code}`);
  const session = await findSession(sha256(outcome.sessionToken));
  if (!session) throw new Error("no session");
  return { session, cookie: outcome.sessionToken };
}
