// Readiness: each check's ok/fail, 503 reasons without hosts, the authority probe cached, draining answered first.
import { describe, expect, it } from "vitest";
import { CheckFailure, readinessChecker, type ReadinessDeps } from "./health";

const OPTIONS = { timeoutMs: 200, authorityOkTtlMs: 30_000, authorityFailTtlMs: 5_000 };

/** Deps that all succeed, with a settable clock and a count of authority probes. */
function deps(overrides: Partial<ReadinessDeps> = {}) {
  const clock = { t: 0 };
  const probes = { n: 0 };
  const d: ReadinessDeps = {
    draining: () => false,
    pingDatabase: () => Promise.resolve(),
    pendingMigrations: () => Promise.resolve([]),
    probeAuthority: () => {
      probes.n += 1;
      return Promise.resolve();
    },
    now: () => clock.t,
    ...overrides,
  };
  return { d, clock, probes };
}

describe("readiness", () => {
  it("is ready when the database answers, migrations are applied and the authority's metadata is reachable", async () => {
    const { d } = deps();
    const result = await readinessChecker(d, OPTIONS)();
    expect(result).toMatchObject({
      ready: true,
      status: "ready",
      checks: { database: { status: "ok" }, migrations: { status: "ok" }, signInAuthority: { status: "ok" } },
    });
  });

  it("fails the check that failed, with a reason that names no host, user or secret", async () => {
    const { d } = deps({
      pingDatabase: () => Promise.reject(new Error('password authentication failed for user "portal" at db.internal:5432')),
      pendingMigrations: () => Promise.resolve(["20261201000000_add_x", "20261202000000_add_y"]),
      probeAuthority: () => Promise.reject(new CheckFailure("answered 503")),
    });
    const result = await readinessChecker(d, OPTIONS)();
    expect(result.ready).toBe(false);
    expect(result.status).toBe("not_ready");
    expect(result.checks).toMatchObject({
      database: { status: "fail", reason: "unreachable" },
      migrations: { status: "fail", reason: "2 migrations not applied" },
      signInAuthority: { status: "fail", reason: "answered 503" },
    });
    expect(JSON.stringify(result)).not.toMatch(/db\.internal|portal"|password/);
  });

  it("fails a check that does not answer within the bound, and aborts the probe", async () => {
    let aborted = false;
    const { d } = deps({
      pingDatabase: () => new Promise<never>(() => {}),
      probeAuthority: (signal) =>
        new Promise<never>((_, reject) =>
          signal.addEventListener("abort", () => {
            aborted = true;
            reject(new Error("aborted"));
          }),
        ),
    });
    const started = Date.now();
    const result = await readinessChecker(d, OPTIONS)();
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.checks?.database).toMatchObject({ status: "fail", reason: "no answer within 200 ms" });
    expect(result.checks?.signInAuthority).toMatchObject({ status: "fail", reason: "no answer within 200 ms" });
    expect(aborted).toBe(true);
  });

  it("probes the authority once per period however many scrapes come, and a failure again sooner", async () => {
    let fail = false;
    const { d, clock, probes } = deps();
    d.probeAuthority = () => {
      probes.n += 1;
      return fail ? Promise.reject(new CheckFailure("answered 500")) : Promise.resolve();
    };
    const check = readinessChecker(d, OPTIONS);
    // A storm of concurrent scrapes shares one probe.
    await Promise.all(Array.from({ length: 50 }, () => check()));
    expect(probes.n).toBe(1);
    clock.t = 29_000;
    await check();
    expect(probes.n).toBe(1);
    clock.t = 30_000;
    fail = true;
    expect((await check()).checks?.signInAuthority).toMatchObject({ status: "fail", reason: "answered 500" });
    expect(probes.n).toBe(2);
    clock.t = 34_000;
    expect((await check()).status).toBe("not_ready");
    expect(probes.n).toBe(2);
    clock.t = 35_000;
    fail = false;
    expect((await check()).status).toBe("ready");
    expect(probes.n).toBe(3);
  });

  it("answers draining, not ready, without touching the database while the server shuts down", async () => {
    let touched = false;
    const { d } = deps({
      draining: () => true,
      pingDatabase: () => {
        touched = true;
        return Promise.resolve();
      },
    });
    expect(await readinessChecker(d, OPTIONS)()).toEqual({ ready: false, status: "draining" });
    expect(touched).toBe(false);
  });
});
