// Storage lifecycle management policy: get/createOrUpdate/delete; the only allowed name is "default".
import { z } from "zod";
import type { SimResponse } from "../contract";
import type { ArmContext } from "./context";
import { API_VERSIONS, armError, checkProviderApiVersion, isoNow, methodNotAllowed, ok, parseBody, resourceNotFound } from "./http";
import { authorize } from "./rbac";
import { clone, STORAGE_TYPE } from "./world";

const ruleSchema = z.object({
  name: z.string().regex(/^[A-Za-z0-9]{1,256}$|^[A-Za-z0-9][-A-Za-z0-9_]{0,255}$/),
  enabled: z.boolean().optional(),
  type: z.literal("Lifecycle"),
  definition: z.object({
    filters: z
      .object({
        blobTypes: z.array(z.enum(["blockBlob", "appendBlob"])).min(1),
        prefixMatch: z.array(z.string()).max(10).optional(),
        blobIndexMatch: z.array(z.looseObject({})).optional(),
      })
      .optional(),
    actions: z.looseObject({
      baseBlob: z.looseObject({}).optional(),
      snapshot: z.looseObject({}).optional(),
      version: z.looseObject({}).optional(),
    }),
  }),
});
const policySchema = z.object({ properties: z.object({ policy: z.object({ rules: z.array(ruleSchema).max(100) }) }) });

/** …/storageAccounts/{name}/managementPolicies/{policyName} */
export function handleManagementPolicy(ctx: ArmContext, accountId: string, rg: string, policyName: string): SimResponse {
  const { state, caller, req } = ctx;
  const bad = checkProviderApiVersion(req, API_VERSIONS.storage, "storageAccounts/managementPolicies");
  if (bad) return bad;
  const account = state.getArm(accountId);
  const id = `${account?.id ?? accountId}/managementPolicies/default`;
  const op = req.method === "GET" ? "read" : req.method === "DELETE" ? "delete" : "write";
  const denied = authorize(state, caller, `Microsoft.Storage/storageAccounts/managementPolicies/${op}`, id);
  if (denied) return denied;
  if (!account || account.type !== STORAGE_TYPE) return resourceNotFound(STORAGE_TYPE, accountId.split("/").pop() ?? "", rg);
  if (policyName.toLowerCase() !== "default")
    return armError(400, "InvalidValuesForRequestParameters", "Values for request parameters are invalid: managementPolicyName.");
  const existing = state.getArm(id);
  switch (req.method) {
    case "GET":
      return existing
        ? ok(clone(existing))
        : armError(404, "ManagementPolicyNotFound", `No ManagementPolicy found for account ${account.name}`);
    case "DELETE":
      if (existing) state.deleteArm(id);
      return { status: existing ? 200 : 204 };
    case "PUT": {
      const parsed = parseBody(policySchema, req.body);
      if ("error" in parsed) return parsed.error;
      const rules = parsed.data.properties.policy.rules;
      for (const r of rules) {
        const base = r.definition.actions.baseBlob ?? {};
        // Azure Storage: "Only delete actions are supported for appendBlob".
        if (r.definition.filters?.blobTypes.includes("appendBlob") && Object.keys(base).some((k) => k !== "delete"))
          return armError(400, "InvalidManagementPolicyRules", "Only delete actions are supported for appendBlob.");
      }
      const resource = {
        id,
        name: "DefaultManagementPolicy",
        type: "Microsoft.Storage/storageAccounts/managementPolicies",
        properties: { lastModifiedTime: isoNow(state.now()), policy: { rules: rules.map((r) => ({ enabled: true, ...r })) } },
      };
      state.putArm(resource);
      return ok(clone(resource));
    }
    default:
      return methodNotAllowed(req.method);
  }
}
