// The ABAC condition that limits Storage Blob Data Reader to the audit storage accounts.
import "server-only";

const BLOB_READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
const STORAGE_NAME = /^[a-z0-9]{3,24}$/;

/**
 * Condition for Storage Blob Data Reader: reads (and lists) pass only on the named accounts.
 * Conditions gate DataActions only; the role's control-plane Actions stay unconditioned at the scope.
 */
export function blobReadCondition(accountNames: readonly string[]): string {
  const names = [...new Set(accountNames)].sort();
  if (names.length === 0) throw new Error("At least one storage account is required");
  for (const n of names) if (!STORAGE_NAME.test(n)) throw new Error(`Not a storage account name: ${n}`);
  const allowed = names.map((n) => `@Resource[Microsoft.Storage/storageAccounts:name] StringEquals '${n}'`).join(" OR ");
  return `((!(ActionMatches{'${BLOB_READ}'})) OR (${allowed}))`;
}
