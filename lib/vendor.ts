// The vendor this deployment onboards to, and the names it gives what it creates in the customer's tenant.
import "server-only";
import { env } from "@/lib/env";

/** Fixed per vendor: the Entra app's uniqueName makes every run of a tenant adopt the same app. */
export function vendorProfile() {
  return {
    name: "Expel",
    appUniqueName: "expel-aks-audit-reader",
    appDisplayName: "Expel Workbench – AKS audit reader",
    egressIps: env().VENDOR_EGRESS_IPS,
    workbenchConfigured: Boolean(env().WORKBENCH_URL && env().WORKBENCH_API_KEY),
  };
}
