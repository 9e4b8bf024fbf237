// Storage accounts: name check, create (long-running), get, list, update, delete, listKeys, async-operation monitor.
import { createHash, randomUUID } from "node:crypto";
import { z } from "zod";
import type { ArmResource, SimResponse } from "../contract";
import type { SimState } from "../state";
import type { ArmContext } from "./context";
import {
  API_VERSIONS,
  armError,
  checkProviderApiVersion,
  isoNow,
  LOCATIONS,
  methodNotAllowed,
  normalizeLocation,
  ok,
  parseBody,
  resourceGroupNotFound,
  resourceNotFound,
} from "./http";
import { paged } from "./paging";
import { denyByPolicy } from "./policy";
import { authorize, isAllowed } from "./rbac";
import { clone, getResourceGroup, isProviderRegistered, resourcesOfType, settle, startLro, STORAGE_TYPE } from "./world";

const KINDS = ["Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage"] as const;
const SKUS = [
  "Standard_LRS",
  "Standard_GRS",
  "Standard_RAGRS",
  "Standard_ZRS",
  "Premium_LRS",
  "Premium_ZRS",
  "Standard_GZRS",
  "Standard_RAGZRS",
];

const ipRuleSchema = z.object({ value: z.string(), action: z.literal("Allow").optional() });
const networkAclsSchema = z.looseObject({
  bypass: z.string().optional(),
  defaultAction: z.enum(["Allow", "Deny"]),
  ipRules: z.array(ipRuleSchema).optional(),
  virtualNetworkRules: z.array(z.looseObject({ id: z.string() })).optional(),
  resourceAccessRules: z.array(z.looseObject({})).optional(),
});
const propertiesSchema = z.looseObject({
  minimumTlsVersion: z.enum(["TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3"]).optional(),
  allowBlobPublicAccess: z.boolean().optional(),
  supportsHttpsTrafficOnly: z.boolean().optional(),
  allowSharedKeyAccess: z.boolean().optional(),
  allowCrossTenantReplication: z.boolean().optional(),
  defaultToOAuthAuthentication: z.boolean().optional(),
  publicNetworkAccess: z.enum(["Enabled", "Disabled", "SecuredByPerimeter"]).optional(),
  isHnsEnabled: z.boolean().optional(),
  accessTier: z.enum(["Hot", "Cool", "Cold", "Premium"]).optional(),
  networkAcls: networkAclsSchema.optional(),
});
const createSchema = z.object({
  location: z.string().optional(),
  kind: z.string().optional(),
  sku: z.looseObject({ name: z.string() }).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  identity: z.looseObject({ type: z.string() }).optional(),
  properties: propertiesSchema.optional(),
});
const patchSchema = z.object({
  kind: z.string().optional(),
  sku: z.looseObject({ name: z.string() }).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  identity: z.looseObject({ type: z.string() }).optional(),
  properties: propertiesSchema.optional(),
});
const nameCheckSchema = z.object({ name: z.string(), type: z.string() });

export const STORAGE_NAME = /^[a-z0-9]{3,24}$/;

export function invalidNameMessage(name: string): string {
  return `${name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.`;
}

function missingRegistration(ns: string): SimResponse {
  return armError(
    409,
    "MissingSubscriptionRegistration",
    `The subscription is not registered to use namespace '${ns}'. See https://aka.ms/rps-not-found for how to register subscriptions.`,
  );
}

/** Any account with this name anywhere (all subscriptions), or a name the scenario says another customer owns. */
function findAccountByName(state: SimState, name: string): ArmResource | undefined {
  return resourcesOfType(state, STORAGE_TYPE).find((a) => a.name.toLowerCase() === name.toLowerCase());
}

function isTaken(state: SimState, name: string): boolean {
  return !!findAccountByName(state, name) || state.scenario.takenStorageAccountNames.some((n) => n.toLowerCase() === name.toLowerCase());
}

const PRIVATE_V4: [number, number][] = [
  [0x0a000000, 8],
  [0xac100000, 12],
  [0xc0a80000, 16],
  [0x7f000000, 8],
  [0x00000000, 8],
  [0xa9fe0000, 16],
  [0x64400000, 10],
];

/** Storage firewall IP rules take public IPv4 addresses or CIDR ranges up to /30; private ranges are refused. */
export function isValidIpRule(value: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(value.trim());
  if (!m) return false;
  const octets = m.slice(1, 5).map(Number);
  if (octets.some((o) => o > 255)) return false;
  const prefix = m[5] === undefined ? 32 : Number(m[5]);
  if (m[5] !== undefined && (prefix < 0 || prefix > 30)) return false;
  const ip = (((octets[0] ?? 0) << 24) | ((octets[1] ?? 0) << 16) | ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)) >>> 0;
  return !PRIVATE_V4.some(([net, bits]) => {
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (ip & mask) >>> 0 === net;
  });
}

function invalidValues(what: string, link = false): SimResponse {
  return armError(
    400,
    "InvalidValuesForRequestParameters",
    `Values for request parameters are invalid: ${what}.${link ? " For more information, see - https://aka.ms/storagenetworkruleset" : ""}`,
  );
}

function validateProperties(p: z.infer<typeof propertiesSchema> | undefined, kind: string): SimResponse | undefined {
  if (!p) return undefined;
  if (p.isHnsEnabled && kind !== "StorageV2" && kind !== "BlockBlobStorage") return invalidValues("isHnsEnabled");
  const acls = p.networkAcls;
  if (acls) {
    if (acls.bypass !== undefined) {
      const parts = acls.bypass.split(",").map((s) => s.trim());
      const okParts = parts.every((b) => ["None", "Logging", "Metrics", "AzureServices"].includes(b));
      if (!okParts || (parts.includes("None") && parts.length > 1)) return invalidValues("networkAcls.bypass");
    }
    const rules = acls.ipRules ?? [];
    if (rules.length > 400) return invalidValues("networkAcls.ipRules");
    if (rules.some((r) => !isValidIpRule(r.value))) return invalidValues("networkAcls.ipRule[*].value", true);
  }
  return undefined;
}

function endpoints(state: SimState, name: string): Record<string, string> {
  return {
    dfs: `https://${name}.dfs.core.windows.net/`,
    web: `https://${name}.z6.web.core.windows.net/`,
    blob: `${state.blobBaseUrl.replace(/\/+$/, "")}/${name}/`,
    queue: `https://${name}.queue.core.windows.net/`,
    table: `https://${name}.table.core.windows.net/`,
    file: `https://${name}.file.core.windows.net/`,
  };
}

function normalizeAcls(acls: z.infer<typeof networkAclsSchema> | undefined): Record<string, unknown> {
  return {
    bypass: acls?.bypass ?? "AzureServices",
    virtualNetworkRules: acls?.virtualNetworkRules ?? [],
    ipRules: (acls?.ipRules ?? []).map((r) => ({ value: r.value, action: r.action ?? "Allow" })),
    defaultAction: acls?.defaultAction ?? "Allow",
    ...(acls?.resourceAccessRules ? { resourceAccessRules: acls.resourceAccessRules } : {}),
  };
}

/** Builds an account resource as a storage GET returns it. */
export function storageAccountResource(
  state: SimState,
  sub: string,
  rg: string,
  name: string,
  input: { location: string; kind: string; skuName: string; tags?: Record<string, string>; properties?: z.infer<typeof propertiesSchema> },
  provisioningState: "Creating" | "Succeeded",
): ArmResource {
  const now = isoNow(state.now());
  const p = input.properties ?? {};
  const { networkAcls, ...rest } = p;
  return {
    id: `/subscriptions/${sub}/resourceGroups/${rg}/providers/Microsoft.Storage/storageAccounts/${name}`,
    name,
    type: STORAGE_TYPE,
    location: input.location,
    tags: input.tags ?? {},
    sku: { name: input.skuName, tier: input.skuName.startsWith("Premium") ? "Premium" : "Standard" },
    kind: input.kind,
    properties: {
      keyCreationTime: { key1: now, key2: now },
      privateEndpointConnections: [],
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
      allowCrossTenantReplication: false,
      isHnsEnabled: false,
      supportsHttpsTrafficOnly: true,
      publicNetworkAccess: "Enabled",
      ...rest,
      networkAcls: normalizeAcls(networkAcls),
      encryption: {
        requireInfrastructureEncryption: false,
        services: {
          file: { keyType: "Account", enabled: true, lastEnabledTime: now },
          blob: { keyType: "Account", enabled: true, lastEnabledTime: now },
        },
        keySource: "Microsoft.Storage",
      },
      accessTier: p.accessTier ?? (input.kind === "StorageV2" || input.kind === "BlobStorage" ? "Hot" : undefined),
      provisioningState,
      creationTime: now,
      primaryEndpoints: endpoints(state, name),
      primaryLocation: input.location,
      statusOfPrimary: "available",
    },
  };
}

function monitorUrl(state: SimState, sub: string, location: string, opId: string, apiVersion: string, monitor: boolean): string {
  return `${state.baseUrl}/subscriptions/${sub}/providers/Microsoft.Storage/locations/${location}/asyncoperations/${opId}?${monitor ? "monitor=true&" : ""}api-version=${apiVersion}`;
}

function retryAfter(state: SimState, doneAt: number): string {
  return String(Math.max(1, Math.ceil((doneAt - state.now()) / 1000)));
}

/** POST /subscriptions/{sub}/providers/Microsoft.Storage/checkNameAvailability */
export function handleCheckNameAvailability(ctx: ArmContext, sub: string): SimResponse {
  const bad = checkProviderApiVersion(ctx.req, API_VERSIONS.storage, "checkNameAvailability");
  if (bad) return bad;
  if (ctx.req.method !== "POST") return methodNotAllowed(ctx.req.method);
  const denied = authorize(ctx.state, ctx.caller, "Microsoft.Storage/checknameavailability/read", `/subscriptions/${sub}`);
  if (denied) return denied;
  // Unlike a PUT (409 MissingSubscriptionRegistration), the name check in a subscription that never registered
  // Microsoft.Storage answers 404 SubscriptionNotFound (Azure/azure-cli#26426, #30550; terraform-provider-azurerm#24104).
  if (!isProviderRegistered(ctx.state, sub, "Microsoft.Storage"))
    return armError(404, "SubscriptionNotFound", `Subscription ${sub} was not found.`);
  const parsed = parseBody(nameCheckSchema, ctx.req.body);
  if ("error" in parsed) return parsed.error;
  const { name, type } = parsed.data;
  if (type.toLowerCase() !== "microsoft.storage/storageaccounts")
    return armError(400, "InvalidValuesForRequestParameters", "Values for request parameters are invalid: type.");
  if (!STORAGE_NAME.test(name)) return ok({ nameAvailable: false, reason: "AccountNameInvalid", message: invalidNameMessage(name) });
  if (isTaken(ctx.state, name))
    return ok({ nameAvailable: false, reason: "AlreadyExists", message: `The storage account named ${name} is already taken.` });
  return ok({ nameAvailable: true });
}

/** GET …/providers/Microsoft.Storage/locations/{loc}/asyncoperations/{id}: status (Azure-AsyncOperation) or, with monitor=true, the Location protocol. */
export function handleStorageOperation(ctx: ArmContext, sub: string, location: string, opId: string): SimResponse {
  const { state, req } = ctx;
  if (req.method !== "GET") return methodNotAllowed(req.method);
  settle(state);
  const op = state.lros.get(opId);
  if (!op || !op.resourceId.toLowerCase().startsWith(`/subscriptions/${sub.toLowerCase()}/`))
    return armError(404, "ResourceNotFound", `The operation '${opId}' could not be found.`);
  const monitor = req.query.get("monitor") === "true";
  if (monitor) {
    if (op.status === "InProgress")
      return {
        status: 202,
        headers: { Location: monitorUrl(state, sub, location, opId, ctx.apiVersion, true), "Retry-After": retryAfter(state, op.doneAt) },
      };
    const account = state.getArm(op.resourceId);
    return account ? ok(account) : { status: 204 };
  }
  const body: Record<string, unknown> = {
    id: `/subscriptions/${sub}/providers/Microsoft.Storage/locations/${location}/asyncoperations/${opId}`,
    name: opId,
    status: op.status,
  };
  return op.status === "InProgress" ? { status: 200, body, headers: { "Retry-After": retryAfter(state, op.doneAt) } } : ok(body);
}

/** Storage collection and item routes under a subscription or resource group. */
export function handleStorageAccounts(
  ctx: ArmContext,
  sub: string,
  rg: string | undefined,
  name: string | undefined,
  action: string | undefined,
): SimResponse {
  const { state, caller, req } = ctx;
  const bad = checkProviderApiVersion(req, API_VERSIONS.storage, "storageAccounts");
  if (bad) return bad;
  settle(state);
  const read = "Microsoft.Storage/storageAccounts/read";
  if (rg !== undefined && !getResourceGroup(state, sub, rg)) {
    const denied = authorize(state, caller, read, `/subscriptions/${sub}/resourceGroups/${rg}`);
    return denied ?? resourceGroupNotFound(rg);
  }
  const rgCased = rg === undefined ? undefined : (getResourceGroup(state, sub, rg)?.name ?? rg);
  const scope = rgCased === undefined ? `/subscriptions/${sub}` : `/subscriptions/${sub}/resourceGroups/${rgCased}`;
  if (name === undefined) {
    if (req.method !== "GET") return methodNotAllowed(req.method);
    const items = resourcesOfType(state, STORAGE_TYPE, scope).filter((a) => isAllowed(state, caller.objectId, read, a.id));
    if (items.length === 0) {
      const denied = authorize(state, caller, read, scope);
      if (denied) return denied;
    }
    return paged(ctx, "storageAccounts", items.map(clone));
  }
  if (rgCased === undefined) return methodNotAllowed(req.method);
  const id = `${scope}/providers/Microsoft.Storage/storageAccounts/${name}`;
  const existing = state.getArm(id);
  const found = existing?.type === STORAGE_TYPE ? existing : undefined;
  const notFound = () => resourceNotFound(STORAGE_TYPE, name, rgCased);

  if (action === "listkeys") {
    if (req.method !== "POST") return methodNotAllowed(req.method);
    const denied = authorize(state, caller, "Microsoft.Storage/storageAccounts/listkeys/action", id);
    if (denied) return denied;
    if (!found) return notFound();
    const created = (found.properties.keyCreationTime as { key1?: string } | undefined)?.key1 ?? isoNow(state.now());
    return ok({
      keys: [
        { creationTime: created, keyName: "key1", value: state.storageKey(found.name), permissions: "FULL" },
        {
          creationTime: created,
          keyName: "key2",
          value: createHash("sha512").update(`azure-simulator-storage-key2/${found.name.toLowerCase()}`).digest("base64"),
          permissions: "FULL",
        },
      ],
    });
  }
  if (action !== undefined) return armError(404, "NotFound", `The requested resource '${action}' was not found.`);

  switch (req.method) {
    case "GET": {
      const denied = authorize(state, caller, read, id);
      if (denied) return denied;
      return found ? ok(clone(found)) : notFound();
    }
    case "DELETE": {
      const denied = authorize(state, caller, "Microsoft.Storage/storageAccounts/delete", id);
      if (denied) return denied;
      if (!found) return { status: 204 };
      state.deleteArm(id);
      for (const child of [...state.arm.values()]) if (child.id.toLowerCase().startsWith(`${id.toLowerCase()}/`)) state.deleteArm(child.id);
      state.events.emit("storageAccountDeleted", clone(found));
      return { status: 200 };
    }
    case "PUT":
      return putAccount(ctx, sub, rgCased, name, id, found);
    case "PATCH":
      return patchAccount(ctx, id, found, notFound);
    default:
      return methodNotAllowed(req.method);
  }
}

function putAccount(ctx: ArmContext, sub: string, rg: string, name: string, id: string, found: ArmResource | undefined): SimResponse {
  const { state, caller, req } = ctx;
  const denied = authorize(state, caller, "Microsoft.Storage/storageAccounts/write", id);
  if (denied) return denied;
  if (!isProviderRegistered(state, sub, "Microsoft.Storage")) return missingRegistration("Microsoft.Storage");
  if (!STORAGE_NAME.test(name)) return armError(400, "AccountNameInvalid", invalidNameMessage(name));
  const parsed = parseBody(createSchema, req.body);
  if ("error" in parsed) return parsed.error;
  const body = parsed.data;
  if (!body.location) return armError(400, "LocationRequired", "The location property is required for this definition.");
  const location = normalizeLocation(body.location);
  if (!LOCATIONS.includes(location))
    return armError(
      400,
      "LocationNotAvailableForResourceType",
      `The provided location '${body.location}' is not available for resource type 'Microsoft.Storage/storageAccounts'. List of available regions for the resource type is '${LOCATIONS.join(",")}'.`,
    );
  if (!body.kind || !(KINDS as readonly string[]).includes(body.kind)) return invalidValues("kind");
  if (!body.sku || !SKUS.includes(body.sku.name)) return invalidValues("sku.name");
  const invalid = validateProperties(body.properties, body.kind);
  if (invalid) return invalid;
  // Policy evaluates the request content: properties the body leaves out are missing to it, not Storage's defaults.
  const disallowed = denyByPolicy(state, {
    id: found?.id ?? id,
    name: found?.name ?? name,
    type: STORAGE_TYPE,
    location,
    kind: body.kind,
    tags: body.tags,
    properties: body.properties,
  });
  if (disallowed) return disallowed;

  if (found) {
    if (found.location !== location)
      return armError(
        409,
        "InvalidResourceLocation",
        `The resource '${name}' already exists in location '${found.location}' in resource group '${rg}'. A resource with the same name cannot be created in location '${location}'. Please select a new resource name.`,
      );
    if (found.properties.isHnsEnabled !== (body.properties?.isHnsEnabled ?? found.properties.isHnsEnabled))
      return invalidValues("isHnsEnabled");
    applyUpdate(found, { ...body, kind: body.kind, sku: body.sku });
    return ok(clone(found));
  }
  const other = findAccountByName(state, name);
  if (other) {
    const sameSub = other.id.toLowerCase().startsWith(`/subscriptions/${sub.toLowerCase()}/`);
    return sameSub
      ? armError(409, "StorageAccountAlreadyExists", `The storage account named ${name} already exists under the subscription.`)
      : armError(409, "StorageAccountAlreadyTaken", `The storage account named ${name} is already taken.`);
  }
  if (state.scenario.takenStorageAccountNames.some((n) => n.toLowerCase() === name.toLowerCase()))
    return armError(409, "StorageAccountAlreadyTaken", `The storage account named ${name} is already taken.`);

  const account = storageAccountResource(
    state,
    sub,
    rg,
    name,
    { location, kind: body.kind, skuName: body.sku.name, tags: body.tags, properties: body.properties },
    "Creating",
  );
  if (body.identity) account.identity = { ...body.identity, principalId: randomUUID(), tenantId: state.scenario.tenant.id };
  state.putArm(account);
  const opId = randomUUID();
  const duration = state.latency.lroMs.storageAccount ?? 300;
  startLro(state, opId, account.id, duration);
  // Storage answers 202 with an empty body; the poller follows Azure-AsyncOperation, then GETs the account.
  return {
    status: 202,
    headers: {
      Location: monitorUrl(state, sub, location, opId, ctx.apiVersion, true),
      "Azure-AsyncOperation": monitorUrl(state, sub, location, opId, ctx.apiVersion, false),
      "Retry-After": retryAfter(state, state.now() + duration),
    },
  };
}

function applyUpdate(
  account: ArmResource,
  body: { tags?: Record<string, string>; sku?: { name: string }; kind?: string; properties?: z.infer<typeof propertiesSchema> },
): void {
  if (body.tags) account.tags = body.tags;
  if (body.sku) account.sku = { name: body.sku.name, tier: body.sku.name.startsWith("Premium") ? "Premium" : "Standard" };
  if (body.kind) account.kind = body.kind;
  if (body.properties) {
    // Encryption at rest stays as created: it is always on for blobs and files and can't be turned off, and infrastructure
    // encryption is chosen at creation only (learn.microsoft.com/azure/storage/common/storage-service-encryption,
    // …/infrastructure-encryption-enable). az 2.45 sends `encryption: {keySource, services: {blob: {}}}` with every create.
    const { networkAcls, encryption: _encryption, ...rest } = body.properties;
    Object.assign(account.properties, rest);
    if (networkAcls) account.properties.networkAcls = normalizeAcls(networkAcls);
  }
}

function patchAccount(ctx: ArmContext, id: string, found: ArmResource | undefined, notFound: () => SimResponse): SimResponse {
  const { state, caller, req } = ctx;
  const denied = authorize(state, caller, "Microsoft.Storage/storageAccounts/write", id);
  if (denied) return denied;
  if (!found) return notFound();
  const parsed = parseBody(patchSchema, req.body);
  if ("error" in parsed) return parsed.error;
  const body = parsed.data;
  if (body.kind && !(KINDS as readonly string[]).includes(body.kind)) return invalidValues("kind");
  if (body.sku && !SKUS.includes(body.sku.name)) return invalidValues("sku.name");
  if (body.properties?.isHnsEnabled !== undefined && body.properties.isHnsEnabled !== found.properties.isHnsEnabled)
    return invalidValues("isHnsEnabled");
  const invalid = validateProperties(body.properties, body.kind ?? found.kind ?? "StorageV2");
  if (invalid) return invalid;
  // A PATCH is evaluated on the account as it would be after the update.
  const after = clone(found);
  applyUpdate(after, body);
  const disallowed = denyByPolicy(state, after);
  if (disallowed) return disallowed;
  applyUpdate(found, body);
  return ok(clone(found));
}
