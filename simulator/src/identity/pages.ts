// HTML of the simulated Entra sign-in pages (accessible: one button per user, named by the UPN).
import type { ScenarioUser } from "./tokens";

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

const STYLE = `body{font-family:system-ui,Segoe UI,sans-serif;background:#f2f2f2;margin:0}
main{max-width:440px;margin:48px auto;background:#fff;padding:36px 44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:1.4rem;font-weight:600;margin:0 0 8px}
p.note{color:#555;font-size:.9rem}
ul{list-style:none;padding:0}
li{margin:12px 0}
button{display:block;width:100%;text-align:left;padding:10px 12px;font-size:1rem;border:1px solid #8a8886;background:#fff;cursor:pointer}
button:hover,button:focus{border-color:#0067b8;outline:2px solid #0067b8}
.desc{display:block;color:#555;font-size:.85rem;margin-top:2px}
.error{color:#a80000}`;

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body><main>${body}</main></body></html>`;
}

/** The account picker: posts the original authorize parameters back together with `login_upn`. */
export function signInPage(args: {
  tenantName: string;
  action: string;
  params: URLSearchParams;
  users: ScenarioUser[];
  error?: string;
}): string {
  const title = `Sign in to ${args.tenantName} (Azure simulator)`;
  const hidden = [...args.params.entries()]
    .filter(([k]) => k !== "login_upn")
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join("\n");
  const users = args.users
    .map(
      (
        u,
        i,
      ) => `<li><button type="submit" name="login_upn" value="${escapeHtml(u.upn)}" aria-describedby="user-${i}-name">${escapeHtml(u.upn)}</button>
<span class="desc" id="user-${i}-name">${escapeHtml(u.displayName)}</span></li>`,
    )
    .join("\n");
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p class="note">This is a local simulation of Microsoft Entra ID. No password is needed: pick an account.</p>
${args.error ? `<p class="error" role="alert">${escapeHtml(args.error)}</p>` : ""}
<form method="post" action="${escapeHtml(args.action)}">
${hidden}
<ul aria-label="Accounts">
${users}
</ul>
</form>`,
  );
}

/** Entra shows errors it cannot send back to the client (bad client_id, bad redirect_uri) on its own page. */
export function errorPage(message: string): string {
  return page(
    "Sign in error (Azure simulator)",
    `<h1>Sorry, but we're having trouble signing you in.</h1><p class="error" role="alert">${escapeHtml(message)}</p>`,
  );
}

/** Auto-submitting form for response_mode=form_post. */
export function formPostPage(action: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join("");
  return page(
    "Working… (Azure simulator)",
    `<form method="post" action="${escapeHtml(action)}">${inputs}<noscript><button type="submit">Continue</button></noscript></form><script>document.forms[0].submit()</script>`,
  );
}

export function signedOutPage(): string {
  return page(
    "Signed out (Azure simulator)",
    `<h1>You signed out of your account</h1><p class="note">It's a good idea to close all browser windows.</p>`,
  );
}
