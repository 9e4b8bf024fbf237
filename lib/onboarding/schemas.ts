// Inputs of the onboarding actions, validated with zod before anything else happens.
import "server-only";
import { z } from "zod";
import { runOptionsSchema } from "@/lib/steps/config";
import { STORAGE_ACCOUNT_NAME } from "@/lib/steps/storage-names";

const guid = z.string().uuid("is not a subscription id");
const resourceGroupName = z
  .string()
  .trim()
  .min(1, "is required")
  .max(90, "can be at most 90 characters")
  .regex(/^[-\w._()]+$/, "may contain letters, digits, - _ . ( ) only")
  .refine((v) => !v.endsWith("."), "can't end with a period");
const accountName = z.string().trim().regex(STORAGE_ACCOUNT_NAME, "must be 3–24 lowercase letters and digits");

/** An Azure region's programmatic name (eastus, germanywestcentral): lowercase letters and digits only. */
export const AZURE_REGION_NAME = /^[a-z][a-z0-9]{1,39}$/;
const region = z.string().toLowerCase().regex(AZURE_REGION_NAME, "is not an Azure region name");
/** An AKS cluster's ARM id; names are 1–63 letters, digits, - and _ (Azure's rule). */
const clusterId = z
  .string()
  .max(400, "is not an AKS cluster id")
  .regex(
    /^\/subscriptions\/[0-9a-f-]{36}\/resourceGroups\/[-\w.()]{1,90}\/providers\/Microsoft\.ContainerService\/managedClusters\/[A-Za-z0-9][-\w]{0,62}$/i,
    "is not an AKS cluster id",
  );

export const storageNameCheckSchema = z.object({
  subscriptionId: guid,
  resourceGroup: resourceGroupName,
  accountName,
  /** A subscription registered for Microsoft.Storage that can answer when `subscriptionId` can't yet (names are global). */
  nameCheckSubscriptionId: guid.optional(),
});
export type StorageNameCheckInput = z.infer<typeof storageNameCheckSchema>;

// Bounds are far above any estate (Azure has ~60 regions) and keep a forged request from costing thousands of Azure reads.
export const newRunSchema = z.object({
  subscriptionIds: z.array(guid).min(1, "Select at least one subscription.").max(1000, "Select at most 1000 subscriptions."),
  clusterIds: z.array(clusterId).min(1, "Select at least one cluster.").max(5000, "Select at most 5000 clusters."),
  storage: z
    .array(z.object({ region, subscriptionId: guid, resourceGroup: resourceGroupName, accountName }))
    .min(1, "Choose a storage account for each region.")
    .max(100, "Choose one storage account per region."),
  /** As in the name check: a registered subscription that can check names the storage subscriptions can't yet. */
  nameCheckSubscriptionId: guid.optional(),
  restrictNetwork: z.boolean(),
  /** Tags for the resource group and storage accounts the run creates. */
  tags: runOptionsSchema.shape.tags.refine(
    (t) => !t || new Set(Object.keys(t).map((k) => k.toLowerCase())).size === Object.keys(t).length,
    "Azure tag names ignore case: each tag can appear only once",
  ),
  retentionDays: z
    .number({ error: "must be a number" })
    .int("must be whole days")
    .min(7, "must be at least 7 days")
    .max(3650, "can be at most 3650 days"),
  secretLifetimeDays: z
    .number({ error: "must be a number" })
    .int("must be whole days")
    .min(1, "must be at least 1 day")
    .max(730, "can be at most 730 days"),
});
export type NewRunInput = z.infer<typeof newRunSchema>;

export const runIdSchema = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, "is not a run id");

export const confirmPlanSchema = z.object({ runId: runIdSchema, planHash: z.string().regex(/^[0-9a-f]{64}$/) });
export const runActionSchema = z.object({ runId: runIdSchema });
