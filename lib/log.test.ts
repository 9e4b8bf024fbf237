// The logger: JSON lines with correlation fields from the context, and nothing token- or secret-like in them.
import { afterEach, describe, expect, it, vi } from "vitest";
import { captureLog } from "@/test/support/log-capture";
import { log, logContext, scrub, withLogContext } from "./log";

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJl";
vi.stubEnv("LOG_LEVEL", "info");
let capture: ReturnType<typeof captureLog> | undefined;
afterEach(() => {
  capture?.stop();
  vi.stubEnv("LOG_LEVEL", "info");
});

describe("log", () => {
  it("writes one JSON object a line with level, time, event and message", () => {
    capture = captureLog();
    log().info({ event: "x.happened", n: 1 }, "it happened");
    expect(capture.lines).toHaveLength(1);
    expect(capture.lines[0]).toMatchObject({ level: "info", event: "x.happened", n: 1, msg: "it happened" });
    expect(new Date(String(capture.lines[0]?.time)).getTime()).toBeGreaterThan(0);
  });

  it("adds the correlation fields of the surrounding contexts, nested, across awaits", async () => {
    capture = captureLog();
    await withLogContext({ runId: "r1", tenantId: "t1" }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      await withLogContext({ stepId: "storage", tenantId: undefined }, async () => {
        expect(logContext()).toEqual({ runId: "r1", tenantId: "t1", stepId: "storage" });
        await Promise.resolve();
        log().info("inner");
      });
      log().info("outer");
    });
    log().info("outside");
    expect(capture.lines.map((l) => [l.msg, l.runId, l.tenantId, l.stepId])).toEqual([
      ["inner", "r1", "t1", "storage"],
      ["outer", "r1", "t1", undefined],
      ["outside", undefined, undefined, undefined],
    ]);
  });

  it("redacts token-, secret- and key-like fields at any depth, and tokens inside text", () => {
    capture = captureLog();
    log().warn(
      {
        event: "leak.attempt",
        accessToken: "abc",
        nested: { clientSecret: "s3cr3t", list: [{ password: "p" }, { apiKey: "k" }], authorization: "Bearer xyz" },
        headers: { cookie: "aks_session=1" },
        note: `got ${JWT} back`,
        code: "forbidden",
      },
      `message with Bearer abcdefghijklmnop and ${JWT}`,
    );
    const text = capture.text();
    for (const secret of ['abc"', "s3cr3t", '"p"', '"k"', "xyz", "aks_session", JWT, "abcdefghijklmnop"])
      expect(text).not.toContain(secret);
    expect(capture.lines[0]).toMatchObject({
      accessToken: "[redacted]",
      nested: { clientSecret: "[redacted]", list: [{ password: "[redacted]" }, { apiKey: "[redacted]" }], authorization: "[redacted]" },
      note: "got [redacted] back",
      code: "forbidden",
      msg: "message with [redacted] and [redacted]",
    });
  });

  it("scrub drops what lies deeper than it checks instead of passing it on", () => {
    let deep: Record<string, unknown> = { secretless: "x" };
    for (let i = 0; i < 10; i++) deep = { next: deep };
    expect(JSON.stringify(scrub(deep))).toContain('"[truncated]"');
    expect(JSON.stringify(scrub(deep))).not.toContain("secretless");
  });

  it("scrub turns an error into its name and message, without its stack or cause", () => {
    const error = new Error(`failed with ${JWT}`, { cause: { token: "t" } });
    expect(scrub({ error })).toEqual({ error: { type: "Error", message: "failed with [redacted]" } });
  });

  it("takes its level from LOG_LEVEL", async () => {
    vi.stubEnv("LOG_LEVEL", "warn");
    capture = captureLog();
    log().info("quiet");
    log().warn("loud");
    expect(capture.lines.map((l) => l.msg)).toEqual(["loud"]);
    vi.stubEnv("LOG_LEVEL", "debug");
    capture.stop();
    capture = captureLog();
    log().debug("detail");
    expect(capture.lines.map((l) => [l.level, l.msg])).toEqual([["debug", "detail"]]);
    await Promise.resolve();
  });
});
