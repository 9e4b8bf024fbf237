import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { e2eEnv } from "./env";
import { ownPortal } from "./portal";
import { OWNER, resetSimulator, simulatorUrl } from "./support";

// A full onboarding (manual hand-off, so the test learns the real client secret), then every place a secret could leak is
// scanned: the database files, the portal's stdout/stderr, presenter-mode HTML and exports, and the simulator's request log.
const portal = ownPortal(3111, "security", { WORKBENCH_URL: "", WORKBENCH_API_KEY: "" });
const JWT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]+/;

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? filesUnder(path.join(dir, d.name)) : [path.join(dir, d.name)]));
}

test("after a full onboarding no secret or token is in the database, the logs, presenter-mode pages or the request log", async ({
  page,
  request,
}) => {
  test.setTimeout(240_000);
  const e = e2eEnv();
  await resetSimulator(request);
  await request.delete(`${simulatorUrl}/_sim/requests`);
  const pages: Record<string, string> = {};
  let secret = "";
  let sessionCookie = "";
  await portal.start();
  try {
    await page.goto(`${portal.url}/`);
    await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
    await page.getByRole("button", { name: OWNER }).click();
    sessionCookie = (await page.context().cookies()).find((c) => c.name === "aks_session")?.value ?? "";
    expect(sessionCookie.length).toBeGreaterThan(20);
    await page.getByRole("link", { name: "Start onboarding" }).click();
    await expect(page.getByText("Available.")).toHaveCount(2);
    await page.getByRole("button", { name: "Review the plan" }).click();
    await expect(page.getByRole("button", { name: "Confirm and start" })).toBeVisible();
    const planUrl = page.url();
    await page.getByRole("button", { name: "Confirm and start" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Onboarding complete" })).toBeVisible({ timeout: 150_000 });
    const runUrl = page.url();

    // Presenter mode: every page and export the admin could share, captured before the secret is known to the test.
    await page.goto(`${runUrl}?present=1`);
    await expect(page.getByText("Presenter mode — ids masked, secrets hidden")).toBeVisible();
    for (const [name, url] of [
      ["run", runUrl],
      ["plan", planUrl],
      ["estate", `${portal.url}/estate`],
      ["new", `${portal.url}/onboarding/new`],
    ] as const) {
      await page.goto(url);
      pages[name] = await page.content();
    }
    pages.runAudit = await (await page.request.get(`${runUrl}/audit?format=jsonl`)).text();
    pages.tenantAudit = await (await page.request.get(`${portal.url}/audit?format=csv`)).text();
    await page.goto(`${runUrl}?present=0`);

    const panel = page.getByRole("region", { name: "Hand off to Expel" });
    await panel.getByLabel("No one else can see my screen").check();
    await panel.getByRole("button", { name: "Reveal secret once" }).click();
    secret = await panel.getByLabel("Client secret value").inputValue();
    expect(secret.length).toBeGreaterThan(20);
    await panel.getByRole("button", { name: "I've given these to Expel" }).click();
    await expect(panel.getByRole("status").filter({ hasText: `Handed off manually by ${OWNER}` })).toBeVisible();
    await page.getByRole("button", { name: "Sign out" }).click();
  } finally {
    await portal.kill();
  }

  const secrets: Record<string, string> = {
    "the app's client secret": secret,
    "the portal's client secret": e.processEnv.ENTRA_CLIENT_SECRET ?? "",
    ENCRYPTION_KEY: e.processEnv.ENCRYPTION_KEY ?? "",
    "the Workbench API key": e.processEnv.WORKBENCH_API_KEY ?? "",
    "the session cookie": sessionCookie,
  };
  for (const [name, value] of Object.entries(secrets)) expect(value.length, name).toBeGreaterThan(15);
  const leaks = (where: string, text: string) => [
    ...Object.entries(secrets)
      .filter(([, v]) => text.includes(v))
      .map(([k]) => `${k} in ${where}`),
    ...(JWT.test(text) ? [`a token (JWT) in ${where}`] : []),
  ];

  // The database: every file of the portal's PGlite cluster, heap and WAL, so deleted and updated row versions count too.
  const dbDir = path.join(e.dataDir, "portal-security");
  const dbFiles = filesUnder(dbDir);
  expect(dbFiles.length).toBeGreaterThan(10);
  const found = dbFiles.flatMap((f) => leaks(`database file ${path.relative(dbDir, f)}`, fs.readFileSync(f).toString("latin1")));
  // The server's own output, every rendered presenter-mode page and export.
  expect(portal.logs().length).toBeGreaterThan(0);
  found.push(...leaks("the portal's stdout/stderr", portal.logs()));
  // That output holds the run's structured log (docs/observability.md): its steps' ends and its writes with request ids.
  expect(portal.logs()).toMatch(/"event":"step\.end".*"outcome":"done"/);
  expect(portal.logs()).toMatch(/"event":"azure\.write".*"requestId":"/);
  // Sign-ins are logged by tenant and object id, never by UPN (docs/observability.md, personal data).
  expect(portal.logs()).toMatch(/"event":"auth\.sign_in","outcome":"success".*"userObjectId":"/);
  expect(portal.logs()).not.toContain(OWNER);
  for (const [name, html] of Object.entries(pages)) found.push(...leaks(`the presenter-mode ${name} page`, html));
  // The simulator's log of the portal's requests (no Workbench hand-off in manual mode).
  const log = await (await request.get(`${simulatorUrl}/_sim/requests`)).text();
  expect(log).toContain("addPassword");
  found.push(...leaks("the simulator's request log", log));
  expect(found).toEqual([]);
});

test("pages carry a nonce CSP, no framing, nosniff and a referrer policy; static assets too; no HSTS on localhost", async ({
  page,
  request,
}) => {
  await resetSimulator(request);
  const res = await request.get("/");
  const h = res.headers();
  const csp = h["content-security-policy"] ?? "";
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
  expect(nonce).toBeTruthy();
  expect(csp).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'(;|$)/);
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).not.toContain("unsafe-eval");
  expect(h["x-content-type-options"]).toBe("nosniff");
  expect(h["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  expect(h["x-frame-options"]).toBe("DENY");
  expect(h["strict-transport-security"]).toBeUndefined();
  // Every script Next rendered carries this response's nonce, and the next response has another one.
  const html = await res.text();
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  expect(scripts.length).toBeGreaterThan(0);
  for (const s of scripts) expect(s).toContain(`nonce="${nonce}"`);
  expect((await request.get("/")).headers()["content-security-policy"]).not.toContain(`'nonce-${nonce}'`);
  const asset = /src="(\/_next\/static\/[^"]+\.js)"/.exec(html)?.[1];
  expect(asset).toBeTruthy();
  expect((await request.get(asset ?? "")).headers()["x-content-type-options"]).toBe("nosniff");
  // The run page's status poll skips the proxy (it is polled by every viewer) and sets its own headers.
  const poll = (await request.get("/onboarding/aaaaaaaaaaaaaaaaaaaaaaaa/status")).headers();
  expect(poll["content-security-policy"]).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(poll["x-content-type-options"]).toBe("nosniff");
  expect(poll["x-frame-options"]).toBe("DENY");

  // The page works under this policy: no CSP violation while it hydrates and signs in.
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  await page.goto("/");
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await page.getByRole("button", { name: OWNER }).click();
  await expect(page).toHaveURL(/\/estate$/);
  await page.getByRole("link", { name: "Start onboarding" }).click();
  await expect(page.getByText("Available.")).toHaveCount(2);
  expect(violations).toEqual([]);
});

test("the session cookie is httpOnly and SameSite=Lax; a planted session id is not adopted; a signed-out session is dead", async ({
  browser,
}) => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const { portalUrl } = e2eEnv();
  const planted = "planted-by-an-attacker-0123456789abcdef0123456789";
  await context.addCookies([{ name: "aks_session", value: planted, url: portalUrl, httpOnly: true, sameSite: "Lax" }]);
  await page.goto("/");
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await page.getByRole("button", { name: OWNER }).click();
  await expect(page).toHaveURL(/\/estate$/);
  const cookie = (await context.cookies()).find((c) => c.name === "aks_session");
  expect(cookie?.value).toBeTruthy();
  expect(cookie?.value).not.toBe(planted);
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe("Lax");
  // Secure only over https (PORTAL_URL here is http://localhost); lib/auth/cookies.ts sets it whenever PORTAL_URL is https.
  expect(cookie?.secure).toBe(false);

  // The planted value opens nothing.
  const attacker = await browser.newContext();
  await attacker.addCookies([{ name: "aks_session", value: planted, url: portalUrl }]);
  const attackerPage = await attacker.newPage();
  await attackerPage.goto("/estate");
  await expect(attackerPage.getByRole("link", { name: "Sign in with Microsoft" })).toBeVisible();

  // After sign-out the old cookie value, replayed from elsewhere, opens nothing either.
  const stolen = cookie?.value ?? "";
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect.poll(async () => (await context.cookies()).find((c) => c.name === "aks_session")?.value ?? "").not.toBe(stolen);
  const replay = await browser.newContext();
  await replay.addCookies([{ name: "aks_session", value: stolen, url: portalUrl }]);
  const replayPage = await replay.newPage();
  await replayPage.goto("/estate");
  await expect(replayPage.getByRole("link", { name: "Sign in with Microsoft" })).toBeVisible();
  await expect(replayPage.getByRole("heading", { name: "Your Azure estate" })).toHaveCount(0);
  await Promise.all([context.close(), attacker.close(), replay.close()]);
});

test("a server action posted from another origin is refused and changes nothing", async ({ page }) => {
  await resetSimulator(page.request);
  await page.goto("/");
  await page.getByRole("link", { name: "Sign in with Microsoft" }).click();
  await page.getByRole("button", { name: OWNER }).click();
  await page.getByRole("link", { name: "Start onboarding" }).click();
  await expect(page.getByText("Available.")).toHaveCount(2);
  // Capture the browser's own "Review the plan" action request (it creates a run) and stop it before it reaches the server.
  let captured: { url: string; headers: Record<string, string>; body: Buffer } | undefined;
  await page.route("**/onboarding/new", async (route) => {
    const req = route.request();
    if (req.method() === "POST" && req.headers()["next-action"]) {
      captured = { url: req.url(), headers: req.headers(), body: req.postDataBuffer() ?? Buffer.alloc(0) };
      await route.abort();
    } else await route.continue();
  });
  await page.getByRole("button", { name: "Review the plan" }).click();
  await expect.poll(() => captured !== undefined).toBe(true);
  await page.unroute("**/onboarding/new");
  if (!captured) throw new Error("no action request captured");
  const action = captured;
  // The estate lists the tenant's newest runs: a created run appears there.
  const runLinks = async () =>
    new Set((await page.request.get("/estate").then((r) => r.text())).match(/\/onboarding\/[A-Za-z0-9_-]{16,64}/g) ?? []);
  const before = await runLinks();

  const foreign = await page.request.post(action.url, {
    headers: { ...action.headers, origin: "https://evil.example" },
    data: action.body,
    maxRedirects: 0,
  });
  expect(foreign.status()).toBeGreaterThanOrEqual(400);
  expect(await foreign.text()).not.toMatch(/\/onboarding\/[A-Za-z0-9_-]{16,64}\/plan/);
  expect([...(await runLinks())].filter((l) => !before.has(l))).toEqual([]);

  // The same request from the portal's own origin is accepted: the refusal was about the origin alone.
  const own = await page.request.post(action.url, { headers: action.headers, data: action.body, maxRedirects: 0 });
  expect(own.status()).toBeLessThan(400);
  expect([...(await runLinks())].filter((l) => !before.has(l))).toHaveLength(1);
});
