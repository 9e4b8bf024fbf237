import { describe, expect, it, vi } from "vitest";
import { armHttpsAgent } from "./http-agent";

const proxy = vi.hoisted(() => ({ HTTPS_PROXY: undefined as string | undefined }));
vi.mock("@/lib/env", () => ({ env: () => proxy }));

describe("armHttpsAgent", () => {
  it("is one kept-alive agent with one TLS context, and none behind a proxy (the SDK's proxy policy must apply)", () => {
    const agent = armHttpsAgent();
    expect(agent).toBeDefined();
    expect(armHttpsAgent()).toBe(agent);
    expect(agent?.options).toMatchObject({ keepAlive: true, secureContext: expect.anything() });
    proxy.HTTPS_PROXY = "http://proxy.example:3128";
    expect(armHttpsAgent()).toBeUndefined();
  });
});
