// The run's plan as Terraform (azurerm 4 + azuread 3), for change approval: objects the plan found in place are data
// sources or comments, everything else the resources the steps would create, with the same names, bodies and scopes.
// Every value from the run's config or plan is an hclString, an hclLabel or a oneLine comment (./escape).
import "server-only";
import { CONDITION_VERSION } from "@/lib/azure/role-ids";
import { customRoleArmBody } from "./azure-cli";
import { hclInner, hclLabel, hclString, oneLine } from "./escape";
import type { ExportModel, Planned } from "./model";
import { writes } from "./model";

type Item = { attr: string; value: string } | { block: string; body: Item[] } | { comment: string } | { blank: true };

const attr = (name: string, value: string): Item => ({ attr: name, value });
const block = (header: string, body: Item[]): Item => ({ block: header, body });
/** One comment item per line; a value's own line breaks never make a line (renderHcl keeps each item on one). */
const note = (...lines: string[]): Item[] => lines.map((l) => ({ comment: l }));
const blank: Item = { blank: true };

const list = (values: readonly string[]) => `[${values.map(hclString).join(", ")}]`;
/** The run's tags as a map from two lists of escaped strings: names stay data (an admin's tag name never becomes HCL structure). */
const tagMap = (m: ExportModel) => `zipmap(${list(m.tags.map((t) => t.name))}, ${list(m.tags.map((t) => t.value))})`;

/** Render with terraform fmt's layout: two-space indent, `=` aligned across consecutive one-line attributes. */
export function renderHcl(items: Item[], depth = 0): string[] {
  const pad = "  ".repeat(depth);
  const out: string[] = [];
  let run: { attr: string; value: string }[] = [];
  const flush = () => {
    const width = Math.max(0, ...run.map((a) => a.attr.length));
    for (const a of run) out.push(`${pad}${a.attr.padEnd(width)} = ${a.value}`);
    run = [];
  };
  for (const item of items) {
    if ("attr" in item) {
      run.push(item);
      continue;
    }
    flush();
    if ("blank" in item) out.push("");
    else if ("comment" in item) out.push(`${pad}# ${oneLine(item.comment)}`.trimEnd());
    else out.push(`${pad}${item.block} {`, ...renderHcl(item.body, depth + 1), `${pad}}`);
  }
  flush();
  return out;
}

const aliasOf = (subscriptionId: string) => hclLabel(`sub_${subscriptionId}`);
const providerOf = (subscriptionId: string) => `azurerm.${aliasOf(subscriptionId)}`;
/** The Terraform name of a storage account's resource or data source. */
const storageRef = (name: string) => hclLabel(`sa_${name}`);
const inPlace = (what: string, p: Planned) => note(`${what}: ${p.action === "adopt" ? "adopted as it is" : "already in place"} (${p.why})`);
const changes = (what: string, p: Planned) =>
  note(
    `${what}: the plan updates it, and Terraform doesn't manage it. The portal's change:`,
    ...p.details.map((d) => `  ${d}`),
    "Apply it with the CLI export or import the object first.",
  );

function terraformBlock(m: ExportModel): Item[] {
  return [
    ...note(
      `AKS audit-log onboarding, run ${m.runId}: the portal's plan as Terraform, for change approval.`,
      `Generated from the plan read from Azure at ${m.planComputedAt || "(not planned yet)"}; objects that plan found in place are data sources or comments.`,
      "Apply as one admin with Owner or User Access Administrator on every subscription below, Contributor on the resource",
      "groups, and Cloud Application Administrator in Entra ID (app registration, admin consent).",
      ...m.planErrors.map(
        (e) => `WARNING: the portal could not plan ${e.stepId} (${e.message}); its resources are what it would write, unchecked.`,
      ),
    ),
    block("terraform", [
      attr("required_version", hclString(">= 1.5")),
      block("required_providers", [
        attr("azurerm", `{ source = "hashicorp/azurerm", version = "~> 4.0" }`),
        attr("azuread", `{ source = "hashicorp/azuread", version = "~> 3.0" }`),
        attr("time", `{ source = "hashicorp/time", version = "~> 0.12" }`),
      ]),
    ]),
    blank,
    block('provider "azuread"', [attr("tenant_id", hclString(m.tenantId))]),
    ...m.subscriptions.flatMap((s) => [
      blank,
      ...note(`${s.displayName}. Provider registrations are explicit below, as the portal makes them.`),
      block('provider "azurerm"', [
        attr("alias", hclString(aliasOf(s.id))),
        attr("subscription_id", hclString(s.id)),
        attr("tenant_id", hclString(m.tenantId)),
        attr("resource_provider_registrations", hclString("none")),
        block("features", []),
      ]),
    ]),
  ];
}

function storageItems(m: ExportModel): Item[] {
  const out: Item[] = [blank, ...note("── 1. Audit log storage: one account per AKS region ──")];
  for (const p of m.providers) {
    if (!writes(p.planned)) {
      out.push(...note(`${p.namespace} is already registered in ${p.subscriptionId}.`));
      continue;
    }
    out.push(
      block(`resource "azurerm_resource_provider_registration" "${hclLabel(`${p.namespace}_${p.subscriptionId}`)}"`, [
        attr("provider", providerOf(p.subscriptionId)),
        attr("name", hclString(p.namespace)),
      ]),
    );
  }
  const groupRef = new Map<string, string>();
  for (const [i, g] of m.resourceGroups.entries()) {
    const name = `rg_${i + 1}`;
    const key = `${g.subscriptionId}/${g.name}`.toLowerCase();
    out.push(blank);
    if (writes(g.planned)) {
      groupRef.set(key, `azurerm_resource_group.${name}.name`);
      out.push(
        block(`resource "azurerm_resource_group" "${name}"`, [
          attr("provider", providerOf(g.subscriptionId)),
          attr("name", hclString(g.name)),
          attr("location", hclString(g.location)),
          attr("tags", tagMap(m)),
        ]),
      );
    } else {
      groupRef.set(key, `data.azurerm_resource_group.${name}.name`);
      out.push(
        ...note(`Resource group ${g.name}: already exists.`),
        block(`data "azurerm_resource_group" "${name}"`, [attr("provider", providerOf(g.subscriptionId)), attr("name", hclString(g.name))]),
      );
    }
  }
  const b = m.storageBaseline;
  for (const a of m.storageAccounts) {
    const ref = storageRef(a.name);
    const rg = groupRef.get(`${a.subscriptionId}/${a.resourceGroup}`.toLowerCase()) ?? hclString(a.resourceGroup);
    const provider = attr("provider", providerOf(a.subscriptionId));
    out.push(blank);
    let accountId: string;
    if (a.planned.action === "create" || a.planned.action === "unplanned") {
      accountId = `azurerm_storage_account.${ref}.id`;
      out.push(
        ...note(`${a.name}: kube-audit logs of ${a.region} (Azure Monitor only writes to an account in the cluster's region).`),
        block(`resource "azurerm_storage_account" "${ref}"`, [
          provider,
          attr("name", hclString(a.name)),
          attr("resource_group_name", rg),
          attr("location", hclString(a.region)),
          attr("account_kind", hclString(b.kind)),
          attr("account_tier", hclString(b.sku.split("_")[0] ?? "Standard")),
          attr("account_replication_type", hclString(b.sku.split("_")[1] ?? "LRS")),
          attr("is_hns_enabled", "false"),
          attr("https_traffic_only_enabled", String(b.httpsOnly)),
          attr("min_tls_version", hclString(b.minimumTlsVersion)),
          attr("allow_nested_items_to_be_public", String(b.allowBlobPublicAccess)),
          attr("cross_tenant_replication_enabled", String(b.allowCrossTenantReplication)),
          attr("public_network_access_enabled", "true"),
          attr("tags", tagMap(m)),
          blank,
          ...note("Azure Monitor delivers resource logs as a trusted Microsoft service: the AzureServices bypass lets them in."),
          block("network_rules", [
            attr("default_action", hclString(m.allowedIps ? "Deny" : "Allow")),
            attr("bypass", list(["AzureServices"])),
            ...(m.allowedIps ? [attr("ip_rules", list(m.allowedIps))] : []),
          ]),
        ]),
      );
    } else {
      accountId = `data.azurerm_storage_account.${ref}.id`;
      out.push(
        ...(a.planned.action === "update"
          ? changes(`Storage account ${a.name}`, a.planned)
          : inPlace(`Storage account ${a.name}`, a.planned)),
        ...(a.network?.action === "update" ? changes(`Firewall of ${a.name}`, a.network) : []),
        block(`data "azurerm_storage_account" "${ref}"`, [
          provider,
          attr("name", hclString(a.name)),
          attr("resource_group_name", hclString(a.resourceGroup)),
        ]),
      );
    }
    if (a.lifecycle.action === "update") {
      out.push(
        ...note(`The account has its own lifecycle policy; Terraform would replace all of it.`),
        ...changes(`Lifecycle rule ${m.lifecycleRule.name} on ${a.name}`, a.lifecycle),
      );
    } else if (writes(a.lifecycle)) {
      const r = m.lifecycleRule;
      out.push(
        blank,
        block(`resource "azurerm_storage_management_policy" "${ref}"`, [
          provider,
          attr("storage_account_id", accountId),
          blank,
          block("rule", [
            attr("name", hclString(r.name)),
            attr("enabled", "true"),
            block("filters", [attr("prefix_match", list([r.prefix])), attr("blob_types", list(r.blobTypes))]),
            block("actions", [block("base_blob", [attr("delete_after_days_since_modification_greater_than", String(r.deleteAfterDays))])]),
          ]),
        ]),
      );
    } else {
      out.push(...inPlace(`Lifecycle rule ${m.lifecycleRule.name} on ${a.name}`, a.lifecycle));
    }
  }
  return out;
}

function accountRef(m: ExportModel, storageAccountId: string): string {
  const a = m.storageAccounts.find((s) => s.id.toLowerCase() === storageAccountId.toLowerCase());
  if (!a) return hclString(storageAccountId);
  return a.planned.action === "create" || a.planned.action === "unplanned"
    ? `azurerm_storage_account.${storageRef(a.name)}.id`
    : `data.azurerm_storage_account.${storageRef(a.name)}.id`;
}

function diagnosticItems(m: ExportModel): Item[] {
  const out: Item[] = [blank, ...note("── 2. Diagnostic settings: kube-audit only, to the account of the cluster's region ──")];
  for (const [i, d] of m.diagnosticSettings.entries()) {
    if (d.planned.blocked !== undefined)
      out.push(...note(`${d.clusterName}: left out, the plan found it can't take the setting. ${d.planned.blocked}`));
    else if (d.planned.action === "update") out.push(...changes(`Diagnostic setting ${d.name} on ${d.clusterName}`, d.planned));
    else if (!writes(d.planned)) out.push(...inPlace(`Diagnostic setting on ${d.clusterName}`, d.planned));
    else {
      out.push(
        block(`resource "azurerm_monitor_diagnostic_setting" "${hclLabel(`${d.clusterName}_${i + 1}`)}"`, [
          attr("provider", providerOf(d.subscriptionId)),
          attr("name", hclString(d.name)),
          attr("target_resource_id", hclString(d.clusterId)),
          attr("storage_account_id", accountRef(m, d.storageAccountId)),
          blank,
          block("enabled_log", [attr("category", hclString(d.category))]),
        ]),
      );
    }
  }
  return out;
}

function appItems(m: ExportModel): Item[] {
  const a = m.app;
  const out: Item[] = [
    blank,
    ...note(`── 3. App registration ${a.displayName}, Log Analytics ${a.dataReadRole} (admin consent), client secret ──`),
  ];
  const la = writes(a.logAnalyticsServicePrincipal)
    ? "azuread_service_principal.log_analytics"
    : "data.azuread_service_principal.log_analytics";
  out.push(
    writes(a.logAnalyticsServicePrincipal)
      ? block(`resource "azuread_service_principal" "log_analytics"`, [
          attr("client_id", hclString(a.logAnalyticsAppId)),
          attr("use_existing", "true"),
        ])
      : block(`data "azuread_service_principal" "log_analytics"`, [attr("client_id", hclString(a.logAnalyticsAppId))]),
    blank,
  );
  const app = writes(a.planned) && a.planned.action !== "update" ? "azuread_application.vendor" : "data.azuread_application.vendor";
  if (app === "azuread_application.vendor") {
    out.push(
      ...note(
        `The portal finds this app by its uniqueName "${a.uniqueName}", which the azuread provider can't set:`,
        "a later portal run would create a second app instead of adopting this one.",
      ),
      block(`resource "azuread_application" "vendor"`, [
        attr("display_name", hclString(a.displayName)),
        attr("sign_in_audience", hclString("AzureADMyOrg")),
        blank,
        block("required_resource_access", [
          attr("resource_app_id", hclString(a.logAnalyticsAppId)),
          blank,
          block("resource_access", [attr("id", `${la}.app_role_ids[${hclString(a.dataReadRole)}]`), attr("type", hclString("Role"))]),
        ]),
      ]),
    );
  } else {
    out.push(
      ...(a.planned.action === "update"
        ? changes(`App registration ${a.uniqueName}`, a.planned)
        : inPlace(`App registration ${a.uniqueName}`, a.planned)),
      block(`data "azuread_application" "vendor"`, [attr("display_name", hclString(a.displayName))]),
    );
  }
  out.push(blank);
  const sp = writes(a.servicePrincipal) ? "azuread_service_principal.vendor" : "data.azuread_service_principal.vendor";
  out.push(
    writes(a.servicePrincipal)
      ? block(`resource "azuread_service_principal" "vendor"`, [attr("client_id", `${app}.client_id`)])
      : block(`data "azuread_service_principal" "vendor"`, [attr("client_id", `${app}.client_id`)]),
  );
  out.push(blank);
  if (writes(a.consent)) {
    out.push(
      ...note(`Admin consent: Log Analytics API ${a.dataReadRole}, an application permission, granted to the app's service principal.`),
      block(`resource "azuread_app_role_assignment" "log_analytics_data_read"`, [
        attr("app_role_id", `${la}.app_role_ids[${hclString(a.dataReadRole)}]`),
        attr("principal_object_id", `${sp}.object_id`),
        attr("resource_object_id", `${la}.object_id`),
      ]),
    );
  } else {
    out.push(...inPlace(`Admin consent for ${a.dataReadRole}`, a.consent));
  }
  if (writes(a.secret)) {
    out.push(
      blank,
      block(`resource "time_offset" "client_secret_expiry"`, [attr("offset_days", String(a.secretLifetimeDays))]),
      blank,
      ...note("The secret lands in the Terraform state: keep the state encrypted and access-controlled."),
      block(`resource "azuread_application_password" "vendor"`, [
        attr("application_id", `${app}.id`),
        attr("display_name", hclString(a.secretName)),
        attr("end_date", "time_offset.client_secret_expiry.rfc3339"),
      ]),
      blank,
      block(`output "client_secret"`, [attr("value", "azuread_application_password.vendor.value"), attr("sensitive", "true")]),
    );
  } else {
    out.push(...inPlace(`Client secret ${a.secretName}`, a.secret));
  }
  out.push(
    blank,
    block(`output "client_id"`, [attr("value", `${app}.client_id`)]),
    blank,
    block("locals", [attr("vendor_principal_id", `${sp}.object_id`)]),
  );
  return out;
}

/** The Terraform resource name of a custom role: aks_read_only, aks_cluster_metadata. */
const roleResource = (key: string) => hclLabel(key.replace(/-/g, "_"));

function roleItems(m: ExportModel): Item[] {
  const out: Item[] = [blank, ...note("── 4. Custom roles (the same ids in every run of this tenant) ──")];
  for (const r of m.customRoles) {
    const first = m.subscriptions.find((s) => `/subscriptions/${s.id.toLowerCase()}` === r.assignableScopes[0]) ?? m.subscriptions[0];
    out.push(blank, ...note(`Custom role "${r.roleName}", id ${r.id}`, `ARM body: ${JSON.stringify(customRoleArmBody(r))}`));
    if (writes(r.planned) && r.planned.action !== "update") {
      out.push(
        block(`resource "azurerm_role_definition" "${roleResource(r.key)}"`, [
          attr("provider", providerOf(first?.id ?? "")),
          attr("role_definition_id", hclString(r.id)),
          attr("name", hclString(r.roleName)),
          attr("scope", hclString(r.assignableScopes[0] ?? "")),
          attr("description", hclString(r.description)),
          attr("assignable_scopes", list(r.assignableScopes)),
          blank,
          block("permissions", [
            attr("actions", list(r.actions)),
            attr("not_actions", list(r.notActions)),
            attr("data_actions", list(r.dataActions)),
            attr("not_data_actions", list(r.notDataActions)),
          ]),
        ]),
      );
    } else {
      out.push(
        ...(r.planned.action === "update"
          ? changes(`Custom role ${r.roleName}`, r.planned)
          : inPlace(`Custom role ${r.roleName}`, r.planned)),
      );
    }
  }
  return out;
}

function assignmentItems(m: ExportModel): Item[] {
  const out: Item[] = [
    blank,
    ...note(
      "── 5. Role assignments for the app's service principal ──",
      "Names as the portal makes them: uuidv5(namespace, lower(scope|principalObjectId|roleGuid)).",
    ),
    block("locals", [attr("assignment_namespace", hclString(m.assignmentNamespace))]),
  ];
  const createdRoles = m.customRoles.filter((r) => writes(r.planned) && r.planned.action !== "update");
  const spCreated = writes(m.app.servicePrincipal);
  for (const [i, ra] of m.roleAssignments.entries()) {
    out.push(blank);
    if (!writes(ra.planned) || ra.planned.action === "update") {
      out.push(
        ...(ra.planned.action === "update"
          ? changes(`${ra.roleName} at ${ra.scope}`, ra.planned)
          : inPlace(`${ra.roleName} at ${ra.scope}`, ra.planned)),
      );
      continue;
    }
    const dependsOn = createdRoles.find((r) => ra.roleGuid.toLowerCase() === r.id.toLowerCase());
    out.push(
      ...note(`${ra.roleName} at ${ra.scope}`, ...ra.planned.details.filter((d) => !d.startsWith("condition: ")).map((d) => `  ${d}`)),
      block(`resource "azurerm_role_assignment" "${hclLabel(`${ra.roleName.split(" ")[0] ?? "role"}_${i + 1}`)}"`, [
        attr("provider", providerOf(ra.subscriptionId)),
        attr(
          "name",
          `uuidv5(local.assignment_namespace, lower("${hclInner(ra.scope)}|\${local.vendor_principal_id}|${hclInner(ra.roleGuid)}"))`,
        ),
        attr("scope", hclString(ra.scope)),
        attr("role_definition_id", hclString(ra.roleDefinitionId)),
        attr("principal_id", "local.vendor_principal_id"),
        attr("principal_type", hclString("ServicePrincipal")),
        // A principal created in this same apply isn't replicated yet: Entra's lookup would fail (PrincipalNotFound).
        ...(spCreated ? [attr("skip_service_principal_aad_check", "true")] : []),
        ...(ra.condition
          ? [attr("condition", hclString(ra.condition)), attr("condition_version", hclString(ra.conditionVersion ?? CONDITION_VERSION))]
          : []),
        ...(dependsOn ? [attr("depends_on", `[azurerm_role_definition.${roleResource(dependsOn.key)}]`)] : []),
      ]),
    );
  }
  if (m.roleAssignmentRemovals.length > 0) {
    // Terraform only deletes what it manages: the portal's earlier assignments are removed with the CLI after this apply.
    out.push(
      blank,
      ...note("Narrowing: after this apply, remove the portal's earlier, broader assignments (Terraform doesn't manage them):"),
    );
    for (const ra of m.roleAssignmentRemovals) {
      out.push(
        ...note(
          `  ${ra.roleName} at ${ra.scope} (${ra.planned.why})`,
          `    az rest --method DELETE --url "${ra.scope}/providers/Microsoft.Authorization/roleAssignments/<uuidv5(namespace, lower(scope|principal|${ra.roleGuid}))>?api-version=2022-04-01"`,
        ),
      );
    }
  }
  return out;
}

/** The whole configuration as one main.tf, formatted as terraform fmt leaves it. */
export function terraformConfig(m: ExportModel): string {
  const items = [...terraformBlock(m), ...storageItems(m), ...diagnosticItems(m), ...appItems(m), ...roleItems(m), ...assignmentItems(m)];
  return `${renderHcl(items)
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")}\n`;
}
