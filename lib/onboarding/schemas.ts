// Inputs of the onboarding actions, validated with zod before anything else happens.
import { z } from "zod";
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

export const storageNameCheckSchema = z.object({
  subscriptionId: guid,
  resourceGroup: resourceGroupName,
  accountName,
});
export type StorageNameCheckInput = z.infer<typeof storageNameCheckSchema>;

export const newRunSchema = z.object({
  subscriptionIds: z.array(guid).min(1, "Select at least one subscription."),
  clusterIds: z.array(z.string().min(1)).min(1, "Select at least one cluster."),
  storage: z
    .array(z.object({ region: z.string().min(1), subscriptionId: guid, resourceGroup: resourceGroupName, accountName }))
    .min(1, "Choose a storage account for each region."),
  restrictNetwork: z.boolean(),
  retentionDays: z.number({ error: "must be a number" }).int("must be whole days").min(7, "must be at least 7 days").max(3650, "can be at most 3650 days"),
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
