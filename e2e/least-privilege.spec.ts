import { expect, test } from "@playwright/test";
import { resetSimulator, reviewPlan } from "./support";

test("the plan tells the admin what the vendor will and won't see on a cluster without Microsoft Entra integration", async ({
  page,
  request,
}) => {
  // non-entra.json: aks-legacy-noaad without Entra integration, aks-payments-prod with Entra and Azure RBAC.
  await resetSimulator(request, "non-entra.json");
  await reviewPlan(page);

  const assignments = page.getByRole("region", { name: /Role assignments/ });
  const legacy = assignments.getByRole("row").filter({ hasText: "AKS cluster metadata reader at" }).filter({ hasText: "aks-legacy-noaad" });
  await expect(legacy).toHaveCount(1);
  await expect(legacy).toContainText("aks-legacy-noaad has no Microsoft Entra integration");
  await expect(legacy).toContainText("The vendor sees: the cluster's metadata");
  await expect(legacy).toContainText("The vendor doesn't get: a kubeconfig");
  await expect(legacy).toContainText("az aks update --resource-group rg-aks-prod-eastus --name aks-legacy-noaad --enable-aad");
  // The cluster with Entra integration gets the read-only AKS role, on the cluster itself; none is subscription-wide.
  const aksRole = assignments.getByRole("row").filter({ hasText: "AKS Audit Log Reader (read-only) at" });
  await expect(aksRole.filter({ hasText: "aks-payments-prod" })).toHaveCount(1);
  await expect(aksRole.filter({ hasText: "aks-legacy-noaad" })).toHaveCount(0);
  await expect(aksRole.filter({ hasNotText: "managedClusters" })).toHaveCount(0);
  // Storage Blob Data Reader on each of the two audit accounts, not on the subscription.
  const blobReader = assignments.getByRole("row").filter({ hasText: "Storage Blob Data Reader at" });
  await expect(blobReader).toHaveCount(2);
  await expect(blobReader.filter({ hasNotText: "storageAccounts" })).toHaveCount(0);
  // Log Analytics: the query-only custom role per subscription, never Log Analytics Reader (its */read lists every account's containers).
  await expect(
    assignments.getByRole("row").filter({ hasText: "Log Analytics query reader (read-only) at /subscriptions/" }).first(),
  ).toBeVisible();
  await expect(assignments.getByRole("row").filter({ hasText: "Log Analytics Reader at" })).toHaveCount(0);
});
