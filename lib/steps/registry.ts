// The provisioning steps in display order (a topological order of STEP_NEEDS): the UI, the engine and the plan all read this list.
import "server-only";
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

/**
 * What each step needs done before it starts: the steps whose outputs it reads (ctx.outputs) or whose Azure effects it relies on.
 * The engine runs every step whose needs are done at once; a failed step holds back only the steps that need it.
 */
export const STEP_NEEDS: { readonly [K in StepId]: readonly StepId[] } = {
  storage: [],
  // Reads outputs.storage: each cluster's setting points at its region's audit account.
  "diagnostic-settings": ["storage"],
  "app-registration": [],
  "custom-role": [],
  "role-assignments": [
    // Reads outputs.storage: Storage Blob Data Reader goes on each audit account, which must exist.
    "storage",
    // Reads outputs["app-registration"]: the service principal is the assignee.
    "app-registration",
    // Reads outputs["custom-role"]: the role definitions being assigned.
    "custom-role",
  ],
  "workbench-handoff": [
    // Reads outputs.storage: the account names Workbench is told to read.
    "storage",
    // Reads outputs["app-registration"] and its stored client secret: the credentials handed off.
    "app-registration",
    // Effect only: Workbench reads with the credentials as soon as it has them, so their grants come first.
    "role-assignments",
  ],
  verification: [
    // Reads outputs.storage: the accounts whose audit blobs it reads.
    "storage",
    // Reads outputs["diagnostic-settings"]: clusters left out send no kube-audit; the settings must exist to check blobs.
    "diagnostic-settings",
    // Reads outputs["app-registration"] and the stored secret: it signs in as the app.
    "app-registration",
    // Reads outputs["role-assignments"]: which clusters got which role; the app's reads rely on the grants.
    "role-assignments",
    // Reads outputs["workbench-handoff"]: once handed off (api mode), it deletes the stored secret.
    "workbench-handoff",
  ],
};

/** The steps that `id` needs done first. */
export function needsOf(id: StepId): readonly StepId[] {
  return STEP_NEEDS[id];
}

/**
 * The steps a drive of the run starts at once: not done, with every need done (a need the run doesn't have holds
 * nothing back). Run order; the engine (lib/engine/drive-run.ts) starts exactly these.
 */
export function startableSteps(steps: readonly { stepId: string; status: string }[]): StepId[] {
  const inRun = new Set(steps.map((s) => s.stepId));
  const done = new Set(steps.filter((s) => s.status === "done").map((s) => s.stepId));
  return STEP_IDS.filter((id) => inRun.has(id) && !done.has(id) && STEP_NEEDS[id].every((n) => done.has(n) || !inRun.has(n)));
}

const stuck = (status: string | undefined) => status === "failed" || status === "needs_admin";

/**
 * The failed steps that hold `id` back, directly or through the steps between (App registration failed: Role
 * assignments, the hand-off and Verification wait for it); empty when nothing it needs failed.
 */
export function heldBackBy(id: StepId, steps: readonly { stepId: string; status: string }[]): StepId[] {
  const status = (n: StepId) => steps.find((s) => s.stepId === n)?.status;
  const roots = new Set<StepId>();
  const visit = (n: StepId) => {
    for (const need of needsOf(n)) {
      if (stuck(status(need))) roots.add(need);
      else if (status(need) !== undefined && status(need) !== "done") visit(need);
    }
  };
  visit(id);
  return STEP_IDS.filter((n) => roots.has(n));
}

/** The steps that need `id`, directly or through others: what a failure of `id` holds back. */
export function dependentsOf(id: StepId): StepId[] {
  const out = new Set<StepId>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const step of STEP_IDS)
      if (!out.has(step) && STEP_NEEDS[step].some((n) => n === id || out.has(n))) {
        out.add(step);
        grew = true;
      }
  }
  return STEP_IDS.filter((s) => out.has(s));
}

/** A step's display data by id. */
export function stepById(id: StepId): (typeof STEPS)[number] {
  const step = STEPS.find((s) => s.id === id);
  if (!step) throw new Error(`Unknown step ${id}`);
  return step;
}
