// Deterministic storage account name suggestions: the same tenant and region always get the same first choice.
import "server-only";
import { createHash } from "node:crypto";

const REGION_ABBREVIATIONS: Record<string, string> = {
  eastus: "eus",
  eastus2: "eus2",
  westus: "wus",
  westus2: "wus2",
  westus3: "wus3",
  centralus: "cus",
  northeurope: "neu",
  westeurope: "weu",
  uksouth: "uks",
  germanywestcentral: "gwc",
  francecentral: "frc",
  swedencentral: "sdc",
  australiaeast: "aue",
  japaneast: "jpe",
  southeastasia: "sea",
  canadacentral: "cac",
};

/** Storage account names: 3–24 characters, lowercase letters and digits only, globally unique. */
export const STORAGE_ACCOUNT_NAME = /^[a-z0-9]{3,24}$/;

/** A name like `kubeauditweu1a2b3c`: readable region, hash of tenant+region(+attempt) so reruns pick the same one. */
export function suggestStorageAccountName(tenantId: string, region: string, attempt = 0): string {
  const location = region.toLowerCase();
  const abbreviation = REGION_ABBREVIATIONS[location] ?? location.replace(/[^a-z0-9]/g, "").slice(0, 7);
  const hash = createHash("sha256").update(`${tenantId.toLowerCase()}|${location}|${attempt}`).digest("hex").slice(0, 6);
  return `kubeaudit${abbreviation}${hash}`.slice(0, 24);
}
