// Step: hand the app's credentials and the audit storage accounts to the vendor's Workbench, server to server.
import "server-only";
import { z } from "zod";
import { AzureOperationError } from "@/lib/azure/errors";
import { listWorkbenchDevices, type WorkbenchDevice } from "@/lib/workbench/list-devices";
import { deregisterWorkbenchDevice } from "@/lib/workbench/deregister-device";
import { registerWorkbenchDevice } from "@/lib/workbench/register-device";
import { updateWorkbenchDeviceStorageAccounts } from "@/lib/workbench/update-device";
import { workbenchConfig } from "@/lib/workbench/client";
import { CLIENT_SECRET_KIND, runCredentialName } from "./app-registration";
import { splitKey } from "./keys";
import { standardRemoval } from "./removal";
import { storageAccountsBySubscription } from "./role-assignments";
import type { PlannedChange, StepContext, StepModule, VerifyResult } from "./types";

const KEY_KINDS = { "workbench-handoff.device": "device", "workbench-handoff.device-accounts": "device-accounts" } as const;

/** The hand-off step's operation-log keys and their parser (the strings are persisted: they never change). */
export const workbenchHandoffKeys = {
  /** The plan line of a manual hand-off: never written. */
  manual: "workbench-handoff.manual",
  device: (deviceName: string) => `workbench-handoff.device:${deviceName}`,
  deviceAccounts: (deviceName: string) => `workbench-handoff.device-accounts:${deviceName}`,
  parse(key: string): { kind: "device" | "device-accounts"; deviceName: string } | null {
    const k = splitKey(key);
    const kind = k && Object.hasOwn(KEY_KINDS, k.head) ? KEY_KINDS[k.head as keyof typeof KEY_KINDS] : undefined;
    return k && kind ? { kind, deviceName: k.value } : null;
  },
};

/** Deregisters the run's Workbench device: the vendor stops reading this tenant's audit logs. */
export const workbenchHandoffRemoval = standardRemoval({
  categories: ["workbench-device"],
  categoryOf: (key) => (workbenchHandoffKeys.parse(key)?.kind === "device" ? "workbench-device" : null),
  describe: (w) => ({ resourceType: "Workbench security device", resource: workbenchHandoffKeys.parse(w.key)?.deviceName ?? "" }),
  keptType: () => "Change",
  why: { "workbench-device": "Workbench stops reading this tenant's audit logs." },
  async resolve(w, _category, ctx) {
    const wb = ctx.workbench;
    const name = workbenchHandoffKeys.parse(w.key)?.deviceName ?? "";
    if (!wb)
      return { state: "foreign", reason: "The portal's Workbench API is no longer configured: remove the device in Workbench by hand." };
    const find = async () => (await listWorkbenchDevices(wb)).find((d) => (w.resourceId ? d.id === w.resourceId : d.name === name)) ?? null;
    const device = await find();
    if (!device) return { state: "absent" };
    return {
      state: "present",
      live: { remove: () => deregisterWorkbenchDevice(wb, device.id), exists: async () => (await find()) !== null },
    };
  },
});

/** What Workbench has now. Manual when the portal has no Workbench URL/API key. */
export type WorkbenchHandoffLive =
  { mode: "manual" } | { mode: "api"; deviceName: string; existing: WorkbenchDevice | null; secretStored: boolean };

/** The hand-off's result; "manual" means the UI shows the values for the admin to pass on. */
export type WorkbenchHandoffOutput = { mode: "api"; deviceId: string; deviceName: string } | { mode: "manual" };

const appOutputSchema = z.object({ appId: z.string().min(1) });

/** The device name for a run: deterministic, so a retried or resumed hand-off finds its device instead of adding one. */
export function workbenchDeviceName(runId: string): string {
  return runCredentialName(runId);
}

/** Audit storage account names, sorted (storage step outputs first, else the run's configuration). */
export function handoffStorageAccounts(ctx: StepContext): string[] {
  return [...new Set([...storageAccountsBySubscription(ctx.config, ctx.outputs.storage).values()].flat())].sort();
}

/** Whether the registered device lists exactly `accounts` (order-insensitive). */
function sameAccounts(device: WorkbenchDevice, accounts: readonly string[]): boolean {
  return [...device.storageAccounts].sort().join(",") === [...accounts].sort().join(",");
}

function clientIdOrThrow(ctx: StepContext): string {
  const parsed = appOutputSchema.safeParse(ctx.outputs["app-registration"]);
  if (!parsed.success)
    throw new AzureOperationError(
      "not_found",
      "The app registration has no output yet, so there is nothing to hand off. Run the App registration step first.",
    );
  return parsed.data.appId;
}

async function findDevice(name: string): Promise<WorkbenchDevice | null> {
  const config = workbenchConfig();
  if (!config) return null;
  return (await listWorkbenchDevices(config)).find((d) => d.name === name) ?? null;
}

async function read(ctx: StepContext): Promise<WorkbenchHandoffLive> {
  if (!workbenchConfig()) return { mode: "manual" };
  const deviceName = workbenchDeviceName(ctx.runId);
  const [existing, secret] = await Promise.all([findDevice(deviceName), ctx.secrets.get(CLIENT_SECRET_KIND)]);
  return { mode: "api", deviceName, existing, secretStored: secret !== null };
}

function plan(ctx: StepContext, live: WorkbenchHandoffLive): PlannedChange[] {
  const base = { stepId: "workbench-handoff" as const, resourceType: "Workbench device" };
  if (live.mode === "manual") {
    return [
      {
        ...base,
        key: workbenchHandoffKeys.manual,
        action: "no-change",
        resource: ctx.config.vendor.name,
        why: "The portal has no Workbench API configured: you will pass the tenant id, client id, secret and storage accounts to the vendor yourself.",
      },
    ];
  }
  const accounts = handoffStorageAccounts(ctx);
  if (live.existing) {
    if (!sameAccounts(live.existing, accounts)) {
      // An extended run (new region) reaches Workbench as an update of its device: the credential it holds stays valid.
      return [
        {
          ...base,
          key: workbenchHandoffKeys.deviceAccounts(live.deviceName),
          action: "update",
          resource: live.deviceName,
          why: "Tells Workbench about the run's audit storage accounts; the client secret it already holds stays as it is.",
          details: [`storage_accounts: ${[...live.existing.storageAccounts].sort().join(", ") || "none"} → ${accounts.join(", ")}`],
        },
      ];
    }
    return [
      {
        ...base,
        key: workbenchHandoffKeys.device(live.deviceName),
        action: "no-change",
        resource: live.deviceName,
        why: "This run's device is already registered in Workbench.",
      },
    ];
  }
  return [
    {
      ...base,
      key: workbenchHandoffKeys.device(live.deviceName),
      action: "create",
      resource: live.deviceName,
      // Before App registration has run (a plan of a new run), the secret doesn't exist yet: it will be made and sent.
      why:
        live.secretStored || ctx.outputs["app-registration"] === undefined
          ? "Sends the tenant id, client id, client secret and storage accounts to Workbench; the stored secret is deleted after the first verification."
          : "This run's client secret is no longer stored, so it can't be sent: remove the run's secret from the app registration and apply App registration again, or hand off manually.",
      details: [
        `device_type: Azure Kubernetes Service`,
        `storage_accounts: ${accounts.join(", ")}`,
        "client secret: sent once, server to server",
      ],
    },
  ];
}

async function apply(ctx: StepContext, live: WorkbenchHandoffLive): Promise<WorkbenchHandoffOutput> {
  const config = workbenchConfig();
  if (live.mode === "manual" || !config) return { mode: "manual" };
  const { deviceName, existing } = live;
  await ctx.progress({ done: 0, total: 1, label: "Hand-off 1 of 1" });
  // `live` is this cycle's read: the engine reads again before every apply, so a retry never POSTs on a stale list.
  if (existing) {
    // Registered earlier (perhaps right before a crash, or before the run was extended). The secret stays until
    // Verification has signed in with it.
    const accounts = handoffStorageAccounts(ctx);
    if (!sameAccounts(existing, accounts)) {
      await ctx.write(
        { key: workbenchHandoffKeys.deviceAccounts(deviceName), kind: "update", target: `Workbench device ${deviceName}` },
        () => updateWorkbenchDeviceStorageAccounts(config, existing.id, accounts),
        (d) => d.id,
      );
    }
    await ctx.progress({ done: 1, total: 1, label: "Hand-off 1 of 1" });
    return { mode: "api", deviceId: existing.id, deviceName };
  }
  const clientId = clientIdOrThrow(ctx);
  const secret = await ctx.secrets.get(CLIENT_SECRET_KIND);
  if (!secret) {
    throw new AzureOperationError(
      "not_found",
      `This run's client secret is no longer stored, so the portal can't send it to Workbench. Remove the secret "${runCredentialName(ctx.runId)}" from the app registration, apply App registration again, then retry the hand-off.`,
    );
  }
  const device = await ctx.write(
    { key: workbenchHandoffKeys.device(deviceName), kind: "create", target: `Workbench device ${deviceName}` },
    () =>
      registerWorkbenchDevice(config, {
        name: deviceName,
        description: `AKS kube-audit logs of tenant ${ctx.tenantId}, onboarded by the AKS onboarding portal (run ${ctx.runId}).`,
        tenantId: ctx.tenantId,
        clientId,
        clientSecret: secret.value,
        storageAccounts: handoffStorageAccounts(ctx),
      }),
    (d) => d.id,
  );
  // Kept (encrypted) until the first Verification has signed in with it; that step deletes it.
  await ctx.progress({ done: 1, total: 1, label: "Hand-off 1 of 1" });
  return { mode: "api", deviceId: device.id, deviceName };
}

async function verify(ctx: StepContext, out: WorkbenchHandoffOutput): Promise<VerifyResult> {
  if (out.mode === "manual") return { ok: true, checks: ["Manual hand-off: the admin passes the values to the vendor"] };
  const config = workbenchConfig();
  if (!config) return { ok: false, reason: "The portal's Workbench API is no longer configured." };
  const device = (await listWorkbenchDevices(config)).find((d) => d.id === out.deviceId);
  if (!device) return { ok: false, reason: `Workbench has no device ${out.deviceName}.` };
  const clientId = clientIdOrThrow(ctx);
  if (device.name !== out.deviceName || device.deviceType !== "Azure Kubernetes Service")
    return { ok: false, reason: "The Workbench device has another name or type." };
  if (device.tenantId?.toLowerCase() !== ctx.tenantId.toLowerCase() || device.clientId?.toLowerCase() !== clientId.toLowerCase()) {
    return { ok: false, reason: "The Workbench device holds another tenant or client id." };
  }
  const accounts = handoffStorageAccounts(ctx);
  if (!sameAccounts(device, accounts)) return { ok: false, reason: "The Workbench device lists other storage accounts." };
  return { ok: true, checks: [`Workbench device ${device.name} registered`, `Storage accounts: ${accounts.join(", ")}`] };
}

/** Registers the run's security device in Workbench (or returns manual mode when no Workbench API is configured). */
export const workbenchHandoffStep: StepModule<WorkbenchHandoffLive, WorkbenchHandoffOutput> = {
  id: "workbench-handoff",
  removal: workbenchHandoffRemoval,
  read,
  plan,
  apply,
  verify,
};
