// The portal's real sign-in against a simulator, as a browser would do it: portal → account picker → callback → session.
import { beginSignIn, completeSignIn } from "../../lib/auth/sign-in";
import { sha256 } from "../../lib/crypto";
import { findSession, type SessionWithUser } from "../../lib/db";
import type { RunningSimulator } from "../../simulator/src/index";

const unescape = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

/** A signed-in session for `upn` (with its server-side token cache) and the cookie value that names it. */
export async function signInThroughSimulator(sim: RunningSimulator, upn: string, returnTo = "/estate"): Promise<{ session: SessionWithUser; cookie: string }> {
  const { authorizeUrl, state } = await beginSignIn(returnTo);
  const html = await (await fetch(authorizeUrl)).text();
  const action = unescape(/<form method="post" action="([^"]+)"/.exec(html)?.[1] ?? "");
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) form.append(unescape(m[1] ?? ""), unescape(m[2] ?? ""));
  form.set("login_upn", upn);
  const res = await fetch(new URL(action, sim.url), { method: "POST", body: form, redirect: "manual" });
  const callback = new URL(res.headers.get("location") ?? "");
  const outcome = await completeSignIn(callback.searchParams, state);
  if (!outcome.ok) throw new Error(`sign-in failed: ${outcome.code}`);
  const session = await findSession(sha256(outcome.sessionToken));
  if (!session) throw new Error("no session");
  return { session, cookie: outcome.sessionToken };
}
