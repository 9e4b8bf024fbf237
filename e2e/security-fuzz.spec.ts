import fs from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { e2eEnv } from "./env";
import { OWNER, resetSimulator, signInAs, simulatorUrl } from "./support";

// Property-based fuzzing over HTTP of every server action (from the build's manifest) and every route handler, signed in
// as an Owner: never a 500, never a stack trace, and nothing written (no Azure write, no new run).
const RUNS = 25;
const WRITE_METHODS = ["PUT", "POST", "PATCH", "DELETE"];

const text = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.constantFrom("", "../../etc/passwd", "<script>alert(1)</script>", "' OR 1=1 --", "%00", "\u0000", "😀".repeat(20), "a".repeat(5000)),
);
const json = fc.jsonValue({ maxDepth: 3 });
const runIdLike = fc.oneof(text, fc.uuid(), fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/));

/** Arguments as React's client encodes them: a string starting with "$" is escaped as "$$…" (a bare "$" is a reference). */
function encodeReply(value: unknown): unknown {
  if (typeof value === "string") return value.startsWith("$") ? `$${value}` : value;
  if (Array.isArray(value)) return value.map(encodeReply);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeReply(v)]));
  return value;
}

function expectReadable(status: number, body: string, what: string) {
  expect(status, `${what} answered ${status}: ${body.slice(0, 300)}`).toBeLessThan(500);
  expect(body, what).not.toMatch(/\n\s+at [\w.<>]+ \(|TypeError|PrismaClient|ZodError/);
}

async function writesSince(request: APIRequestContext, since: string): Promise<string[]> {
  const log = (await (await request.get(`${simulatorUrl}/_sim/requests?since=${encodeURIComponent(since)}`)).json()) as {
    method: string;
    url: string;
  }[];
  return log.filter((r) => WRITE_METHODS.includes(r.method) && !/checkNameAvailability/i.test(r.url)).map((r) => `${r.method} ${r.url}`);
}

test("fuzzed server actions and route handlers never answer 500 and write nothing", async ({ page, request }) => {
  test.setTimeout(300_000);
  await resetSimulator(request);
  await signInAs(page, OWNER);
  const api = page.request;

  // Every server action of the build (its manifest); the onboarding ones are all reachable from a run's page.
  const manifest = JSON.parse(
    fs.readFileSync(path.join(e2eEnv().root, ".next-test", "server", "server-reference-manifest.json"), "utf8"),
  ) as {
    node: Record<string, { exportedName?: string; workers: Record<string, unknown> }>;
  };
  const actions = Object.entries(manifest.node);
  expect(actions.map(([, a]) => a.exportedName)).toEqual(
    expect.arrayContaining([
      "acknowledgeHandoffAction",
      "checkStorageNameAction",
      "confirmPlanAction",
      "continueRunAction",
      "createRunAction",
      "replanAction",
      "revealSecretAction",
    ]),
  );
  const actionIds = actions.map(([id]) => id);
  // A well-formed run id that names no run: the page the actions are posted to.
  const target = "/onboarding/AAAAAAAAAAAAAAAAAAAAAAAA";
  const runLinks = async () => new Set((await (await api.get("/estate")).text()).match(/\/onboarding\/[A-Za-z0-9_-]{16,64}/g) ?? []);
  const runsBefore = await runLinks();
  const since = new Date().toISOString();
  let requests = 0;

  // Server actions: arbitrary JSON arguments, arbitrary form fields, unknown action ids.
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...actionIds), fc.array(json, { maxLength: 3 }), async (id, args) => {
      const res = await api.post(target, {
        headers: { "next-action": id, "content-type": "text/plain;charset=UTF-8", accept: "text/x-component" },
        data: JSON.stringify(encodeReply(args)),
        maxRedirects: 0,
      });
      requests++;
      expectReadable(res.status(), await res.text(), `action ${id} with ${JSON.stringify(args).slice(0, 100)}`);
    }),
    { numRuns: RUNS * 2 },
  );
  // Malformed React reply payloads (a bare "$…" is a reference) fail inside Next's decoder before any portal code runs:
  // Next answers 500 with an error digest only. Asserted: no internals in the answer, nothing written (checked at the end).
  let malformed500 = 0;
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...actionIds), fc.constantFrom("$", "$Q", "$K9", "$@9", "$undefined", "$T"), async (id, ref) => {
      const res = await api.post(target, {
        headers: { "next-action": id, "content-type": "text/plain;charset=UTF-8", accept: "text/x-component" },
        data: JSON.stringify([{ subscriptionIds: ref }]),
        maxRedirects: 0,
      });
      requests++;
      const body = await res.text();
      if (res.status() >= 500) malformed500++;
      expect(body).not.toMatch(/\n\s+at [\w.<>]+ \(|TypeError|PrismaClient|ZodError/);
    }),
    { numRuns: 10 },
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...actionIds), runIdLike, text, async (id, runId, planHash) => {
      // Posted from the page as React encodes (prevState, formData): fields carry the "_1_" prefix of the "$K1" reference.
      // (Playwright's own multipart encoding isn't decoded into the action's FormData fields, so it would fuzz nothing.)
      const res = await page.evaluate(
        async ({ id, target, runId, planHash }) => {
          const form = new FormData();
          form.append("_1_runId", runId);
          form.append("_1_planHash", planHash);
          form.append("0", '[null,"$K1"]');
          const r = await fetch(target, {
            method: "POST",
            headers: { "next-action": id, accept: "text/x-component" },
            body: form,
            redirect: "manual",
          });
          return { status: r.status, body: await r.text() };
        },
        { id, target, runId, planHash },
      );
      requests++;
      expectReadable(res.status, res.body, `form action ${id}`);
    }),
    { numRuns: RUNS },
  );
  await fc.assert(
    fc.asyncProperty(fc.stringMatching(/^[0-9a-f]{40,42}$/), json, async (id, arg) => {
      const res = await api.post(target, {
        headers: { "next-action": id, "content-type": "text/plain;charset=UTF-8" },
        data: JSON.stringify([arg]),
        maxRedirects: 0,
      });
      requests++;
      expectReadable(res.status(), await res.text(), `unknown action ${id}`);
    }),
    { numRuns: RUNS },
  );

  // Route handlers: audit downloads, sign-in, callback, sign-out (last: it ends the session), presenter toggle.
  await fc.assert(
    fc.asyncProperty(runIdLike, text, async (runId, format) => {
      for (const url of [
        `/audit?format=${encodeURIComponent(format)}`,
        `/onboarding/${encodeURIComponent(runId)}/audit?format=${encodeURIComponent(format)}`,
      ]) {
        const res = await api.get(url, { maxRedirects: 0 });
        requests++;
        expectReadable(res.status(), await res.text(), `GET ${url}`);
      }
    }),
    { numRuns: RUNS },
  );
  await fc.assert(
    fc.asyncProperty(text, text, text, async (code, state, returnTo) => {
      for (const url of [
        `/auth/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`,
        `/auth/sign-in?returnTo=${encodeURIComponent(returnTo)}`,
      ]) {
        const res = await request.get(url, { maxRedirects: 0 });
        requests++;
        expectReadable(res.status(), await res.text(), `GET ${url}`);
        const location = res.headers().location ?? "";
        // A redirect never leaves for a place the fuzzer chose.
        if (location)
          expect(location.startsWith("/") || location.startsWith(e2eEnv().portalUrl) || location.startsWith(simulatorUrl), location).toBe(
            true,
          );
      }
    }),
    { numRuns: RUNS },
  );
  // The toggle's own fields (present, returnTo): a valid present with a hostile returnTo must still land on the portal.
  const portalOrigin = new URL(e2eEnv().portalUrl).origin;
  const hostile = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r/evil.example",
    "//evil.example",
    "/\\evil.example",
    "/%2F%2Fevil.example",
    "/%5Cevil.example",
    "/%09/evil.example",
    "/\t%5C/evil",
    "https://evil.example/",
    "javascript:alert(1)",
    "/%2e%2e/estate",
  ];
  const hostileReturnTo = fc.oneof(text, fc.constantFrom(...hostile));
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.constantFrom("1", "0"), text), hostileReturnTo, async (present, returnTo) => {
      const res = await api.post("/presenter", { form: { present, returnTo }, maxRedirects: 0 });
      requests++;
      expectReadable(res.status(), await res.text(), "POST /presenter");
      if (present === "1" || present === "0") {
        expect(res.status(), `present=${present} returnTo=${JSON.stringify(returnTo)}`).toBe(303);
        const location = res.headers().location ?? "";
        // Where the browser goes: resolved as a browser would (tabs and newlines dropped, "\\" read as "/").
        expect(new URL(location, e2eEnv().portalUrl).origin, `${JSON.stringify(returnTo)} → ${location}`).toBe(portalOrigin);
        expect(new URL(location).pathname, location).toMatch(/^\/(?![/\\])/);
      }
    }),
    // Every hostile value is tried with a valid toggle, whatever the random runs pick.
    { numRuns: RUNS, examples: hostile.map((returnTo): [string, string] => ["1", returnTo]) },
  );
  // Presenter mode off again: the checks below read the estate page as before.
  expect((await api.post("/presenter", { form: { present: "0", returnTo: "/estate" }, maxRedirects: 0 })).status()).toBe(303);

  expect(await writesSince(request, since)).toEqual([]);
  expect([...(await runLinks())].filter((l) => !runsBefore.has(l))).toEqual([]);
  console.log(
    `fuzz: ${requests} requests over ${actionIds.length} server actions and 6 route handlers; Next answered ${malformed500} of 10 malformed reply payloads with 500 (digest only)`,
  );
});
