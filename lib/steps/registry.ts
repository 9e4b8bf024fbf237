// The provisioning steps, in run order: the UI, the engine and the plan all read this list.
export const STEPS = [
  {
    id: "storage",
    title: "Audit log storage",
    summary: "One storage account per AKS region, secure defaults, lifecycle retention.",
  },
  {
    id: "diagnostic-settings",
    title: "Diagnostic settings",
    summary: "Send only kube-audit from each selected cluster to its region's account.",
  },
  {
    id: "app-registration",
    title: "App registration",
    summary: "An Entra app and service principal with Log Analytics Data.Read, and a client secret.",
  },
  {
    id: "custom-role",
    title: "Read-only AKS role",
    summary: "Custom roles: read a cluster but not its secrets, or (without Entra integration) its metadata only; query Log Analytics.",
  },
  {
    id: "role-assignments",
    title: "Role assignments",
    summary:
      "Log Analytics queries per subscription; the AKS role on each selected cluster; Storage Blob Data Reader on each audit account.",
  },
  {
    id: "workbench-handoff",
    title: "Hand-off to Workbench",
    summary: "Client id, tenant id, secret and storage accounts sent to the vendor, server to server.",
  },
  {
    id: "verification",
    title: "Verification",
    summary: "Signs in as the app: reads the clusters and audit blobs, is kept out of other accounts, queries Log Analytics.",
  },
] as const;

export type StepId = (typeof STEPS)[number]["id"];
export const STEP_IDS: readonly StepId[] = STEPS.map((s) => s.id);

/** A step's display data by id. */
export function stepById(id: StepId): (typeof STEPS)[number] {
  const step = STEPS.find((s) => s.id === id);
  if (!step) throw new Error(`Unknown step ${id}`);
  return step;
}
