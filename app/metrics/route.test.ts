// /metrics exists only with METRICS_TOKEN configured, and answers only a request bearing it.
import { randomBytes } from "node:crypto";
import { NextRequest } from "next/server";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("@/lib/db/run-counts", () => ({
  countRunsByStatus: () => Promise.resolve({ running: 3, completed: 5 }),
}));

const request = (authorization?: string) =>
  new NextRequest("http://localhost/metrics", authorization ? { headers: { authorization } } : {});

// env() caches its first parse: each case loads the route (and lib/env) afresh under its own environment.
async function route(token: string | undefined) {
  vi.resetModules();
  vi.stubEnv("METRICS_TOKEN", token ?? "");
  return import("./route");
}

beforeEach(() => {
  vi.stubEnv("ENCRYPTION_KEY", randomBytes(32).toString("base64"));
  vi.stubEnv("ENTRA_CLIENT_ID", "00000000-0000-4000-8000-000000000001");
  vi.stubEnv("ENTRA_CLIENT_SECRET", "test-secret");
});

describe("GET /metrics", () => {
  it("answers 404 when METRICS_TOKEN is not configured, whatever the request carries", async () => {
    const { GET } = await route(undefined);
    expect((await GET(request())).status).toBe(404);
    expect((await GET(request("Bearer anything-at-all-here"))).status).toBe(404);
  });

  it("answers 401 without the token, with another token or another scheme; the metrics with it", async () => {
    const token = randomBytes(24).toString("hex");
    const { GET } = await route(token);
    for (const auth of [undefined, "Bearer ", `Bearer ${token.slice(1)}`, `Bearer ${token}0`, `Basic ${token}`, token]) {
      const res = await GET(request(auth));
      expect(res.status, String(auth)).toBe(401);
      expect(await res.text()).not.toContain("portal_");
    }
    const res = await GET(request(`Bearer ${token}`));
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = await res.text();
    expect(body).toContain('portal_runs{status="running"} 3');
    expect(body).toContain('portal_runs{status="completed"} 5');
    expect(body).toContain("# TYPE portal_step_duration_seconds histogram");
  });
});
