// Azure RBAC + ABAC for bearer-token blob requests, which Azurite accepts without any authorization of its own.
import crypto from "node:crypto";
import type { SimState } from "../state";
import { conditionAllows } from "../arm/abac-condition";
import { assignmentProps, effectiveAssignments, findRoleDefinition, permissionAllows } from "../arm/rbac";
import { verifyJwt } from "../identity/jwt";
import type { SigningKey } from "../identity/keys";
import { resourceOf } from "../identity/resources";

const BLOB_SERVICES = "Microsoft.Storage/storageAccounts/blobServices";

/** The permission a blob request needs: an Action (control-plane style) or a DataAction. */
export interface BlobOperation {
  permission: string;
  data: boolean;
}

/** Path-style URL parts: /<account>[/<container>[/<blob…>]]. */
export interface BlobTarget {
  account: string;
  container?: string;
  blob?: string;
}

export function parseBlobPath(pathname: string): BlobTarget | undefined {
  const [account, container, ...blob] = pathname
    .split("/")
    .filter(Boolean)
    .map((s) => decodeURIComponent(s));
  if (!account) return undefined;
  return { account, ...(container ? { container } : {}), ...(blob.length ? { blob: blob.join("/") } : {}) };
}

/** POST /?restype=service&comp=userdelegationkey (Blob REST API, "Get User Delegation Key"). */
export function isUserDelegationKeyRequest(method: string, target: BlobTarget, query: URLSearchParams): boolean {
  return (
    method === "POST" &&
    !target.container &&
    query.get("restype")?.toLowerCase() === "service" &&
    query.get("comp")?.toLowerCase() === "userdelegationkey"
  );
}

/**
 * The Get User Delegation Key answer for an authorized bearer request. Azurite issues no delegation key to a Shared Key
 * request (the front re-signs with the account key), so the front answers it itself, in the documented shape.
 */
export function userDelegationKeyXml(args: { principalId: string; tenantId: string; body: string; version: string }): string {
  const start = /<Start>([^<]+)<\/Start>/.exec(args.body)?.[1] ?? new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const expiry = /<Expiry>([^<]+)<\/Expiry>/.exec(args.body)?.[1] ?? start;
  const value = crypto.createHash("sha256").update(`udk|${args.principalId}|${start}|${expiry}`).digest("base64");
  return (
    `<?xml version="1.0" encoding="utf-8"?><UserDelegationKey><SignedOid>${args.principalId}</SignedOid><SignedTid>${args.tenantId}</SignedTid>` +
    `<SignedStart>${start}</SignedStart><SignedExpiry>${expiry}</SignedExpiry><SignedService>b</SignedService><SignedVersion>${args.version}</SignedVersion>` +
    `<Value>${value}</Value></UserDelegationKey>`
  );
}

/** The RBAC permission Azure Storage checks for a request (learn.microsoft.com "Authorize with Microsoft Entra ID", per operation). */
export function blobOperation(method: string, target: BlobTarget, query: URLSearchParams): BlobOperation {
  const read = method === "GET" || method === "HEAD";
  const comp = query.get("comp")?.toLowerCase();
  if (!target.container) {
    // Service level, per the permissions table of "Authorize access to blobs using Microsoft Entra ID": List Containers
    // needs …/blobServices/containers/read and Get User Delegation Key …/generateUserDelegationKey/action, both control-plane
    // Actions (no condition gates them); Get/Set Blob Service Properties need …/blobServices/read and …/write.
    if (isUserDelegationKeyRequest(method, target, query))
      return { permission: `${BLOB_SERVICES}/generateUserDelegationKey/action`, data: false };
    if (read && query.get("restype")?.toLowerCase() === "service" && comp !== "list")
      return { permission: `${BLOB_SERVICES}/read`, data: false };
    return read ? { permission: `${BLOB_SERVICES}/containers/read`, data: false } : { permission: `${BLOB_SERVICES}/write`, data: false };
  }
  if (!target.blob) {
    if (read && comp === "list") return { permission: `${BLOB_SERVICES}/containers/blobs/read`, data: true };
    if (read) return { permission: `${BLOB_SERVICES}/containers/read`, data: false };
    if (method === "DELETE") return { permission: `${BLOB_SERVICES}/containers/delete`, data: false };
    return { permission: `${BLOB_SERVICES}/containers/write`, data: false };
  }
  if (read) return { permission: `${BLOB_SERVICES}/containers/blobs/read`, data: true };
  if (method === "DELETE") return { permission: `${BLOB_SERVICES}/containers/blobs/delete`, data: true };
  if (comp === "appendblock") return { permission: `${BLOB_SERVICES}/containers/blobs/add/action`, data: true };
  return { permission: `${BLOB_SERVICES}/containers/blobs/write`, data: true };
}

export type BlobAuthDecision =
  { ok: true; principalId: string } | { ok: false; status: 401 | 403; code: string; message: string; headers?: Record<string, string> };

function storageXmlMessage(message: string): string {
  return `${message}\nRequestId:${crypto.randomUUID()}\nTime:${new Date().toISOString()}`;
}

/** Verify a storage bearer token and evaluate the principal's role assignments (with conditions) for the request. */
export function authorizeBlobRequest(args: {
  token: string;
  key: SigningKey;
  state: SimState;
  method: string;
  target: BlobTarget;
  query: URLSearchParams;
}): BlobAuthDecision {
  const { state, target } = args;
  const tenantId = state.scenario.tenant.id;
  const unauthenticated = (detail: string): BlobAuthDecision => ({
    ok: false,
    status: 401,
    code: "InvalidAuthenticationInfo",
    message: storageXmlMessage(
      `Server failed to authenticate the request. Please refer to the information in the www-authenticate header. ${detail}`,
    ),
    headers: {
      "www-authenticate": `Bearer authorization_uri=https://login.microsoftonline.com/${tenantId}/oauth2/authorize resource_id=https://storage.azure.com`,
    },
  });
  const verified = verifyJwt(args.token, args.key);
  if (!verified.ok)
    return unauthenticated(
      verified.reason === "expired" ? "Lifetime validation failed. The token is expired." : "Signature validation failed.",
    );
  const claims = verified.claims;
  if (resourceOf(typeof claims.aud === "string" ? claims.aud : "") !== "storage")
    return unauthenticated("Audience validation failed. Audience did not match.");
  if (claims.tid !== tenantId) return unauthenticated("Issuer validation failed. Issuer did not match.");
  const principalId = typeof claims.oid === "string" ? claims.oid : "";
  const account = [...state.arm.values()].find(
    (r) => r.type.toLowerCase() === "microsoft.storage/storageaccounts" && r.name.toLowerCase() === target.account.toLowerCase(),
  );
  const denied: BlobAuthDecision = {
    ok: false,
    status: 403,
    code: "AuthorizationPermissionMismatch",
    message: storageXmlMessage("This request is not authorized to perform this operation using this permission."),
  };
  if (!account) return denied;
  const op = blobOperation(args.method, target, args.query);
  const scope = target.container ? `${account.id}/blobServices/default/containers/${target.container}` : account.id;
  const allowed = effectiveAssignments(state, principalId, scope).some((a) => {
    const props = assignmentProps(a);
    const def = findRoleDefinition(state, props.roleDefinitionId);
    if (!def || !permissionAllows(def.permissions, op.permission, op.data)) return false;
    // Conditions gate DataActions only; an Action granted by a conditioned assignment still applies.
    if (!op.data) return true;
    return conditionAllows(props.condition, {
      action: op.permission,
      accountName: account.name,
      ...(target.container ? { containerName: target.container } : {}),
    });
  });
  return allowed ? { ok: true, principalId } : denied;
}

/** Storage's XML error body. */
export function storageErrorXml(code: string, message: string): string {
  const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return `<?xml version="1.0" encoding="utf-8"?><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error>`;
}
