// The admin's choices for a run, validated at every boundary (action input, database read).
import "server-only";
import { z } from "zod";
import { STORAGE_ACCOUNT_NAME } from "./storage-names";

const guid = z.string().uuid();
/** An Azure region name as ARM writes it (eastus, westeurope): also keeps stored configs free of anything a script could run. */
const regionName = z.string().regex(/^[a-z0-9]{1,40}$/i, "must be an Azure region name");
const armId = z.string().regex(/^\/subscriptions\/[0-9a-f-]{36}\//i, "must be an ARM resource id");

/** An Azure tag name: 1–512 characters, none of < > % & \\ ? / (Azure Resource Manager tag rules). */
const tagName = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[^<>%&\\?/]+$/, "a tag name can't contain < > % & \\ ? /");

/** A public IPv4 address: Azure storage IP rules reject private ranges and /31, /32. */
export const publicIpv4Schema = z
  .string()
  .trim()
  .refine((v) => {
    const parts = v.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return false;
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(v)) return false;
    const [a = 0, b = 0] = parts;
    const privateOrReserved =
      a === 10 ||
      a === 127 ||
      a === 0 ||
      a >= 224 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127);
    return !privateOrReserved;
  }, "must be a public IPv4 address (Azure storage firewalls accept no private ranges)");

export const storageChoiceSchema = z.object({
  region: regionName,
  subscriptionId: guid,
  resourceGroup: z
    .string()
    .min(1)
    .max(90)
    .regex(/^[-\w._()]+$/, "may contain letters, digits, - _ . ( )")
    .refine((v) => !v.endsWith("."), "can't end with a period"),
  /** Create the resource group when it doesn't exist. */
  createResourceGroup: z.boolean(),
  accountName: z.string().regex(STORAGE_ACCOUNT_NAME, "3–24 lowercase letters and digits"),
  /** The account already exists in the customer's subscription and is adopted, not created. */
  adopt: z.boolean(),
});
export type StorageChoice = z.infer<typeof storageChoiceSchema>;

export const clusterChoiceSchema = z.object({
  id: armId,
  name: z.string().min(1),
  subscriptionId: guid,
  resourceGroup: z.string().min(1),
  location: regionName,
  /** Microsoft Entra integration (aadProfile) when the run was created; absent in runs stored before it was recorded. */
  entraIntegration: z.boolean().optional(),
});
export type ClusterChoice = z.infer<typeof clusterChoiceSchema>;

export const runOptionsSchema = z.object({
  restrictNetwork: z.boolean(),
  retentionDays: z.number().int().min(7, "must be at least 7 days").max(3650),
  secretLifetimeDays: z.number().int().min(1).max(730, "can be at most 730 days (Entra's limit is 2 years)"),
  /** Tags on everything the portal creates (resource group, storage accounts); Azure allows 50, name ≤ 512, value ≤ 256. */
  tags: z
    .record(tagName, z.string().max(256, "a tag value can have at most 256 characters"))
    .refine((t) => Object.keys(t).length <= 50, "Azure allows at most 50 tags")
    .optional(),
});
export type RunOptions = z.infer<typeof runOptionsSchema>;

/** Everything a run needs to plan and apply, frozen when the run is created. */
export const runConfigSchema = z
  .object({
    tenantId: guid,
    subscriptions: z.array(z.object({ id: guid, displayName: z.string().min(1) })).min(1, "select at least one subscription"),
    clusters: z.array(clusterChoiceSchema).min(1, "select at least one cluster"),
    storage: z.array(storageChoiceSchema).min(1),
    options: runOptionsSchema,
    vendor: z.object({
      name: z.string().min(1),
      /** Entra app uniqueName and display name: one app per tenant and vendor, adopted by later runs. */
      appUniqueName: z.string().regex(/^[a-z0-9-]{3,64}$/),
      appDisplayName: z.string().min(1).max(120),
      egressIps: z.array(publicIpv4Schema).max(400),
    }),
  })
  .superRefine((c, ctx) => {
    const regions = new Set(c.clusters.map((k) => k.location.toLowerCase()));
    const covered = new Set(c.storage.map((s) => s.region.toLowerCase()));
    for (const r of regions) {
      if (!covered.has(r)) ctx.addIssue({ code: "custom", path: ["storage"], message: `no storage account chosen for region ${r}` });
    }
    const names = c.storage.map((s) => s.accountName);
    if (new Set(names).size !== names.length)
      ctx.addIssue({ code: "custom", path: ["storage"], message: "each region needs its own storage account" });
    const subs = new Set(c.subscriptions.map((s) => s.id));
    for (const k of c.clusters) {
      if (!subs.has(k.subscriptionId))
        ctx.addIssue({ code: "custom", path: ["clusters"], message: `cluster ${k.name} is in a subscription that isn't selected` });
    }
    if (c.options.restrictNetwork && c.vendor.egressIps.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["options", "restrictNetwork"],
        message: "no vendor egress IPs are configured, so access can't be restricted",
      });
    }
  });
export type RunConfig = z.infer<typeof runConfigSchema>;
