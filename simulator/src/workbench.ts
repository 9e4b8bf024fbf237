// The vendor's Workbench API (simulated): security devices that receive the customer's AKS audit-log credentials.
import crypto from "node:crypto";
import { z } from "zod";
import type { RawRequest, RawResponse } from "./server";
import type { SimState } from "./state";

/** Body of POST /workbench/api/v1/security-devices. */
export const securityDeviceSchema = z.object({
  name: z.string().min(1).max(200),
  description: z.string().max(2000).default(""),
  device_type: z.literal("Azure Kubernetes Service"),
  credentials: z.object({
    tenant_id: z.string().uuid(),
    client_id: z.string().uuid(),
    client_secret: z.string().min(1),
  }),
  storage_accounts: z.array(z.string().min(1)).min(1),
});
export type SecurityDeviceInput = z.infer<typeof securityDeviceSchema>;

/** Body of PATCH /workbench/api/v1/security-devices/{id}: storage accounts, description and/or a new credential (rotation). */
export const securityDevicePatchSchema = z
  .object({
    description: z.string().max(2000).optional(),
    storage_accounts: z.array(z.string().min(1)).min(1).optional(),
    credentials: z
      .object({
        tenant_id: z.string().uuid().optional(),
        client_id: z.string().uuid().optional(),
        client_secret: z.string().min(1),
      })
      .optional(),
  })
  .strict();

/** A device as stored and listed: the secret is replaced by a hint. */
export interface SecurityDevice {
  id: string;
  name: string;
  description: string;
  device_type: "Azure Kubernetes Service";
  credentials: { tenant_id: string; client_id: string; client_secret_hint: string };
  storage_accounts: string[];
  created_at: string;
  /** Set when the credential was replaced (PATCH). */
  credentials_updated_at?: string;
  status: "healthy";
}

// Secrets stay out of state.workbench (which /_sim/state exposes); one map per SimState instance.
const secrets = new WeakMap<SimState, Map<string, string>>();

/** The client secret given for a device (for a future credential check), never exposed through an API. */
export function deviceSecret(state: SimState, id: string): string | undefined {
  return secrets.get(state)?.get(id);
}

/**
 * SHA-256 (hex) of each device's current client secret, by device id: lets tests check which secret Workbench holds
 * through /_sim/state without the secret ever appearing there.
 */
export function deviceSecretHashes(state: SimState): Record<string, string> {
  const map = secrets.get(state);
  if (!map) return {};
  return Object.fromEntries([...map].map(([id, secret]) => [id, crypto.createHash("sha256").update(secret).digest("hex")]));
}

const PREFIX = "/workbench/api/v1/security-devices";

function error(status: number, code: string, message: string, details?: unknown): RawResponse {
  return { status, body: { error: { code, message, ...(details ? { details } : {}) } } };
}

function authorized(req: RawRequest, apiKey: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
  if (!m?.[1]) return false;
  const a = Buffer.from(m[1].trim());
  const b = Buffer.from(apiKey);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** Handles /workbench/*; `apiKey` is the configured Workbench API key. */
export function handleWorkbench(req: RawRequest, state: SimState, apiKey: string): RawResponse {
  if (!authorized(req, apiKey)) {
    return {
      ...error(401, "Unauthorized", "Missing or invalid API key. Send 'Authorization: Bearer <api key>'."),
      headers: { "www-authenticate": 'Bearer realm="workbench"' },
    };
  }
  const devices = state.workbench.devices as unknown as SecurityDevice[];
  const rest = req.path.startsWith(PREFIX) ? req.path.slice(PREFIX.length) : undefined;
  if (rest === undefined) return error(404, "NotFound", `No Workbench endpoint at ${req.path}.`);
  if (rest === "" || rest === "/") {
    if (req.method === "GET") return { status: 200, body: { items: devices, count: devices.length } };
    if (req.method !== "POST") return error(405, "MethodNotAllowed", `${req.method} is not allowed here.`);
    let json: unknown;
    try {
      json = JSON.parse(req.rawBody.toString("utf8") || "null");
    } catch {
      return error(400, "InvalidJson", "The request body is not valid JSON.");
    }
    const parsed = securityDeviceSchema.safeParse(json);
    if (!parsed.success) {
      return error(
        400,
        "ValidationError",
        "The security device is invalid.",
        parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
      );
    }
    const input = parsed.data;
    const device: SecurityDevice = {
      id: crypto.randomUUID(),
      name: input.name,
      description: input.description,
      device_type: input.device_type,
      credentials: {
        tenant_id: input.credentials.tenant_id,
        client_id: input.credentials.client_id,
        client_secret_hint: input.credentials.client_secret.slice(0, 3),
      },
      storage_accounts: input.storage_accounts,
      created_at: new Date().toISOString(),
      status: "healthy",
    };
    devices.push(device);
    let map = secrets.get(state);
    if (!map) secrets.set(state, (map = new Map()));
    map.set(device.id, input.credentials.client_secret);
    return {
      status: 201,
      headers: { location: `${PREFIX}/${device.id}` },
      body: { id: device.id, name: device.name, device_type: device.device_type, created_at: device.created_at, status: device.status },
    };
  }
  const id = /^\/([^/]+)$/.exec(rest)?.[1];
  const index = id ? devices.findIndex((d) => d.id === id) : -1;
  const device = devices[index];
  if (!id || !device) return error(404, "NotFound", `Security device '${id ?? rest}' was not found.`);
  if (req.method === "GET") return { status: 200, body: device };
  if (req.method === "PATCH") {
    let json: unknown;
    try {
      json = JSON.parse(req.rawBody.toString("utf8") || "null");
    } catch {
      return error(400, "InvalidJson", "The request body is not valid JSON.");
    }
    const parsed = securityDevicePatchSchema.safeParse(json);
    if (!parsed.success) {
      return error(
        400,
        "ValidationError",
        "The security device update is invalid.",
        parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message })),
      );
    }
    if (parsed.data.description !== undefined) device.description = parsed.data.description;
    if (parsed.data.storage_accounts !== undefined) device.storage_accounts = parsed.data.storage_accounts;
    const c = parsed.data.credentials;
    if (c) {
      device.credentials = {
        tenant_id: c.tenant_id ?? device.credentials.tenant_id,
        client_id: c.client_id ?? device.credentials.client_id,
        client_secret_hint: c.client_secret.slice(0, 3),
      };
      device.credentials_updated_at = new Date().toISOString();
      let map = secrets.get(state);
      if (!map) secrets.set(state, (map = new Map()));
      map.set(device.id, c.client_secret);
    }
    return { status: 200, body: device };
  }
  if (req.method === "DELETE") {
    devices.splice(index, 1);
    secrets.get(state)?.delete(device.id);
    return { status: 204 };
  }
  return error(405, "MethodNotAllowed", `${req.method} is not allowed here.`);
}
