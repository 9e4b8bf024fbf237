// The simulated vendor Workbench API: API-key auth, validation, device lifecycle, secret kept out of sight.
import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "./index";
import { simJson, startTestSimulator, TEST_WORKBENCH_KEY } from "./testing";
import { deviceSecret } from "./workbench";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await sim?.close();
});

const PATH = "/workbench/api/v1/security-devices";
const auth = { authorization: `Bearer ${TEST_WORKBENCH_KEY}` };
const device = () => ({
  name: "Contoso AKS audit",
  description: "kube-audit from 4 clusters",
  device_type: "Azure Kubernetes Service",
  credentials: {
    tenant_id: sim.state().scenario.tenant.id,
    client_id: "8d3c2b1a-6f5e-4d3c-9b2a-1f0e9d8c7b6a",
    client_secret: "Abc~very-secret",
  },
  storage_accounts: ["contosoauditeus01", "contosoauditweu01"],
});

describe("Workbench security devices", () => {
  it("requires the API key", async () => {
    expect((await simJson(sim, "GET", PATH)).status).toBe(401);
    expect((await simJson(sim, "POST", PATH, { body: device(), headers: { authorization: "Bearer wrong" } })).status).toBe(401);
  });

  it("creates, lists, reads and deletes a device, keeping the secret only in memory", async () => {
    const created = await simJson(sim, "POST", PATH, { body: device(), headers: auth });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "Contoso AKS audit",
      device_type: "Azure Kubernetes Service",
      created_at: expect.any(String),
      status: "healthy",
    });
    const id = created.body.id as string;
    expect(deviceSecret(sim.state(), id)).toBe("Abc~very-secret");

    const list = await simJson(sim, "GET", PATH, { headers: auth });
    expect(list.body.items).toHaveLength(1);
    const one = await simJson(sim, "GET", `${PATH}/${id}`, { headers: auth });
    expect(one.body).toMatchObject({
      id,
      storage_accounts: ["contosoauditeus01", "contosoauditweu01"],
      credentials: { client_secret_hint: "Abc" },
    });
    expect(JSON.stringify(one.body)).not.toContain("very-secret");
    const snapshot = await simJson(sim, "GET", "/_sim/state");
    expect(snapshot.body.workbench.devices).toHaveLength(1);
    expect(JSON.stringify(snapshot.body)).not.toContain("very-secret");

    expect((await simJson(sim, "DELETE", `${PATH}/${id}`, { headers: auth })).status).toBe(204);
    expect((await simJson(sim, "GET", `${PATH}/${id}`, { headers: auth })).status).toBe(404);
    expect(deviceSecret(sim.state(), id)).toBeUndefined();
  });

  it("validates the body", async () => {
    const bad = await simJson(sim, "POST", PATH, { body: { ...device(), device_type: "EKS", storage_accounts: [] }, headers: auth });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("ValidationError");
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(
      expect.arrayContaining(["device_type", "storage_accounts"]),
    );
  });

  it("replaces a device's secret (rotation), showing only its SHA-256 in /_sim/state", async () => {
    const id = (await simJson(sim, "POST", PATH, { body: device(), headers: auth })).body.id as string;
    const updated = await simJson(sim, "PATCH", `${PATH}/${id}`, {
      body: { credentials: { client_secret: "Xyz~rotated-secret" } },
      headers: auth,
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      id,
      credentials: { client_secret_hint: "Xyz", client_id: device().credentials.client_id },
      credentials_updated_at: expect.any(String),
    });
    expect(deviceSecret(sim.state(), id)).toBe("Xyz~rotated-secret");
    const snapshot = await simJson(sim, "GET", "/_sim/state");
    expect(snapshot.body.workbench.secretSha256[id]).toBe(crypto.createHash("sha256").update("Xyz~rotated-secret").digest("hex"));
    expect(JSON.stringify(snapshot.body)).not.toContain("rotated-secret");
    expect((await simJson(sim, "PATCH", `${PATH}/${id}`, { body: { credentials: {} }, headers: auth })).body.error.code).toBe(
      "ValidationError",
    );
    expect(
      (
        await simJson(sim, "PATCH", `${PATH}/00000000-0000-4000-8000-000000000000`, {
          body: { credentials: { client_secret: "x" } },
          headers: auth,
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await simJson(sim, "PATCH", `${PATH}/${id}`, {
          body: { credentials: { client_secret: "x" } },
          headers: { authorization: "Bearer wrong" },
        })
      ).status,
    ).toBe(401);
  });
});
