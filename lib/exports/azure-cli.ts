// The run's plan as an Azure CLI bash script, for change approval: the same names, bodies and scopes the steps would write.
import type { ExportModel, Planned } from "./model";
import { writes } from "./model";

const ARM = "https://management.azure.com";
const GRAPH = "https://graph.microsoft.com/v1.0";
const AUTHZ_API = "2022-04-01";
// Replaced by bash after the heredoc: a quoted heredoc keeps $ and backticks in the display name literal.
const ROLE_PLACEHOLDER = "__DATA_READ_ROLE_ID__";

/** A bash word that stays literal: single-quoted, embedded quotes closed and escaped. */
export function shQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

const stateOf = (p: Planned) => (p.action === "unplanned" ? "not in the stored plan; written as the step would" : p.action);
const detailComments = (p: Planned) => p.details.map((d) => `#   ${d}`);
/** One line naming an object the plan found in place: the script leaves it alone. */
const leftAlone = (what: string, p: Planned) => [`# ${what}: ${p.action === "adopt" ? "adopted as it is" : "already in place"} (${p.why}). Nothing to run.`];

function header(m: ExportModel): string[] {
  return [
    "#!/usr/bin/env bash",
    `# AKS audit-log onboarding, run ${m.runId}: the portal's plan as Azure CLI commands, for change approval.`,
    `# Generated from the plan read from Azure at ${m.planComputedAt || "(not planned yet)"}; objects that plan found in place are comments.`,
    "# Needs: az 2.60+ signed in to the tenant (az login --tenant …), bash 4+, GNU coreutils (sha1sum, date -d). Run it as one admin with:",
    "#   Owner or User Access Administrator on every subscription below (custom role, role assignments),",
    "#   Contributor on the resource groups (storage, diagnostic settings), and Cloud Application Administrator",
    "#   (app registration, admin consent for Log Analytics Data.Read).",
    "set -euo pipefail",
    "",
    `TENANT_ID=${shQuote(m.tenantId)}`,
    `if [[ "$(az account show --query tenantId -o tsv)" != "$TENANT_ID" ]]; then`,
    `  echo "Sign in to tenant $TENANT_ID first: az login --tenant $TENANT_ID" >&2`,
    "  exit 1",
    "fi",
    "",
    "# RFC 4122 UUIDv5 (SHA-1): the portal names each role assignment uuidv5(namespace, lower(scope|principalObjectId|roleGuid)),",
    "# so this script, a retry and the portal all address the same assignment.",
    "uuidv5() {",
    '  local ns="${1//-/}" h v',
    `  h=$({ printf '%b' "$(printf '%s' "$ns" | sed 's/../\\\\x&/g')"; printf '%s' "$2"; } | sha1sum | cut -c1-32)`,
    "  v=$(( (16#${h:16:1} & 3) | 8 ))",
    `  printf '%s-%s-5%s-%x%s-%s\\n' "\${h:0:8}" "\${h:8:4}" "\${h:13:3}" "$v" "\${h:17:3}" "\${h:20:12}"`,
    "}",
    `ASSIGNMENT_NAMESPACE=${shQuote(m.assignmentNamespace)}`,
    ...(m.planErrors.length > 0
      ? ["", "# WARNING: the portal could not plan every step; those steps' commands are what they would write, unchecked:", ...m.planErrors.map((e) => `#   ${e.stepId}: ${e.message}`)]
      : []),
  ];
}

function storageSection(m: ExportModel): string[] {
  const out = ["", "# ── 1. Audit log storage: one account per AKS region ──"];
  for (const p of m.providers) {
    const sub = shQuote(p.subscriptionId);
    out.push(writes(p.planned) ? `az provider register --namespace ${p.namespace} --subscription ${sub} --wait` : `# ${p.namespace} is already registered in ${p.subscriptionId}.`);
  }
  for (const g of m.resourceGroups) {
    out.push(
      writes(g.planned)
        ? `az group create --subscription ${shQuote(g.subscriptionId)} --name ${shQuote(g.name)} --location ${shQuote(g.location)} --tags managed-by=aks-onboarding-portal`
        : `# Resource group ${g.name} in ${g.subscriptionId}: ${g.planned.action === "unplanned" ? "not in the stored plan" : "already exists"}.`,
    );
  }
  const b = m.storageBaseline;
  for (const a of m.storageAccounts) {
    const loc = `--subscription ${shQuote(a.subscriptionId)} --resource-group ${shQuote(a.resourceGroup)} --name ${shQuote(a.name)}`;
    out.push("", `# Storage account ${a.name} (${a.region}): ${stateOf(a.planned)}`, ...detailComments(a.planned));
    if (a.planned.action === "create" || a.planned.action === "unplanned") {
      out.push(
        `az storage account create ${loc} --location ${shQuote(a.region)} \\`,
        `  --kind ${b.kind} --sku ${b.sku} --hns false --https-only ${b.httpsOnly} --min-tls-version ${b.minimumTlsVersion} \\`,
        `  --allow-blob-public-access ${b.allowBlobPublicAccess} --allow-cross-tenant-replication ${b.allowCrossTenantReplication} \\`,
        `  --public-network-access Enabled --default-action ${m.allowedIps ? "Deny" : "Allow"} --bypass AzureServices --tags managed-by=aks-onboarding-portal`,
      );
      for (const ip of m.allowedIps ?? []) out.push(`az storage account network-rule add ${loc.replace("--name", "--account-name")} --ip-address ${shQuote(ip)}`);
    } else if (a.planned.action === "update") {
      out.push(`az storage account update ${loc} --https-only true --min-tls-version ${b.minimumTlsVersion} --allow-blob-public-access false --allow-cross-tenant-replication false`);
    } else {
      out.push(...leftAlone(`Storage account ${a.name}`, a.planned));
    }
    if (a.network && a.network.action === "update") {
      out.push(`# Firewall of ${a.name}: ${a.network.why}`, ...detailComments(a.network));
      out.push(`az storage account update ${loc} --default-action Deny --bypass AzureServices --min-tls-version ${b.minimumTlsVersion}`);
      for (const ip of m.allowedIps ?? []) out.push(`az storage account network-rule add ${loc.replace("--name", "--account-name")} --ip-address ${shQuote(ip)}`);
      for (const removed of a.network.details.filter((d) => d.startsWith("ipRules: -")).flatMap((d) => d.slice("ipRules: ".length).split(", "))) {
        out.push(`az storage account network-rule remove ${loc.replace("--name", "--account-name")} --ip-address ${shQuote(removed.replace(/^-/, ""))}`);
      }
    }
    out.push(`# Lifecycle rule ${m.lifecycleRule.name} on ${a.name}: ${stateOf(a.lifecycle)}`);
    if (writes(a.lifecycle)) {
      if (a.lifecycle.action === "update") out.push("# The account has its own policy: this command replaces the whole policy, so merge its other rules into the JSON first.");
      out.push(`az storage account management-policy create ${loc.replace("--name", "--account-name")} --policy "$(cat <<'JSON'`, lifecyclePolicyJson(m), "JSON", ')"');
    }
  }
  return out;
}

function lifecyclePolicyJson(m: ExportModel): string {
  const r = m.lifecycleRule;
  return JSON.stringify(
    {
      rules: [
        {
          name: r.name,
          enabled: true,
          type: "Lifecycle",
          definition: { filters: { blobTypes: r.blobTypes, prefixMatch: [r.prefix] }, actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: r.deleteAfterDays } } } },
        },
      ],
    },
    null,
    2,
  );
}

function diagnosticsSection(m: ExportModel): string[] {
  const out = ["", "# ── 2. Diagnostic settings: kube-audit only, to the account of the cluster's region ──"];
  for (const d of m.diagnosticSettings) {
    if (!writes(d.planned)) {
      out.push(...leftAlone(`Diagnostic setting on ${d.clusterName}`, d.planned));
      continue;
    }
    out.push(
      `# ${d.clusterName}: ${stateOf(d.planned)}`,
      `az monitor diagnostic-settings create --name ${shQuote(d.name)} --resource ${shQuote(d.clusterId)} \\`,
      `  --storage-account ${shQuote(d.storageAccountId)} --logs ${shQuote(JSON.stringify([{ category: d.category, enabled: true }]))}`,
    );
  }
  return out;
}

function appSection(m: ExportModel): string[] {
  const a = m.app;
  const la = shQuote(a.logAnalyticsAppId);
  // uniqueName is [a-z0-9-] (runConfigSchema), so it is safe inside double quotes.
  const appUrl = `${GRAPH}/applications(uniqueName='${a.uniqueName}')`;
  const out = ["", `# ── 3. App registration ${a.displayName} (uniqueName ${a.uniqueName}), Log Analytics ${a.dataReadRole}, client secret ──`];
  if (writes(a.logAnalyticsServicePrincipal)) out.push("# The tenant has no Log Analytics API service principal yet:", `az ad sp create --id ${la}`);
  out.push(
    `LA_SP_ID=$(az ad sp show --id ${la} --query id -o tsv)`,
    `DATA_READ_ROLE_ID=$(az ad sp show --id ${la} --query ${shQuote(`appRoles[?value=='${a.dataReadRole}'].id | [0]`)} -o tsv)`,
  );
  if (writes(a.planned)) {
    out.push(
      `# App registration: ${stateOf(a.planned)} (upsert by uniqueName, as the portal does)`,
      ...detailComments(a.planned),
      ...(a.planned.action === "update" ? ["# This replaces requiredResourceAccess: keep the app's other application permissions in the body."] : []),
      "APP_BODY=$(cat <<'JSON'",
      JSON.stringify(
        {
          displayName: a.displayName,
          signInAudience: "AzureADMyOrg",
          requiredResourceAccess: [{ resourceAppId: a.logAnalyticsAppId, resourceAccess: [{ id: ROLE_PLACEHOLDER, type: "Role" }] }],
        },
        null,
        2,
      ),
      "JSON",
      ")",
      `az rest --method PATCH --url "${appUrl}" --headers Prefer=create-if-missing Content-Type=application/json --body "\${APP_BODY//${ROLE_PLACEHOLDER}/$DATA_READ_ROLE_ID}"`,
    );
  } else {
    out.push(...leftAlone(`App registration ${a.uniqueName}`, a.planned));
  }
  out.push(`APP_ID=$(az rest --method GET --url "${appUrl}" --query appId -o tsv)`);
  if (writes(a.servicePrincipal)) out.push(`az ad sp create --id "$APP_ID"`);
  else out.push(...leftAlone("The app's service principal", a.servicePrincipal));
  out.push(`SP_ID=$(az ad sp show --id "$APP_ID" --query id -o tsv)`);
  if (writes(a.consent)) {
    out.push(
      `# Admin consent: grant Log Analytics API ${a.dataReadRole} (an application permission) to the app's service principal.`,
      `az rest --method POST --url "${GRAPH}/servicePrincipals/$SP_ID/appRoleAssignedTo" --headers Content-Type=application/json \\`,
      `  --body "{\\"principalId\\": \\"$SP_ID\\", \\"resourceId\\": \\"$LA_SP_ID\\", \\"appRoleId\\": \\"$DATA_READ_ROLE_ID\\"}"`,
    );
  } else {
    out.push(...leftAlone(`Admin consent for ${a.dataReadRole}`, a.consent));
  }
  if (writes(a.secret)) {
    out.push(
      `# Client secret "${a.secretName}", valid ${a.secretLifetimeDays} days.`,
      "# WARNING: the next command prints the new client secret in clear text. Run it where nobody watches the screen and no",
      "# log or CI output records it, hand the secret to the vendor over a secure channel, then clear the terminal.",
      `az ad app credential reset --id "$APP_ID" --append --display-name ${shQuote(a.secretName)} --end-date "$(date -u -d '+${a.secretLifetimeDays} days' +%Y-%m-%dT%H:%M:%SZ)"`,
    );
  } else {
    out.push(...leftAlone(`Client secret ${a.secretName}`, a.secret));
  }
  return out;
}

/** The role's ARM body, as lib/steps/aks-read-only-role.json defines it and the custom-role step PUTs it. */
export function customRoleArmBody(m: ExportModel): object {
  const r = m.customRole;
  return {
    properties: {
      roleName: r.roleName,
      description: r.description,
      type: "CustomRole",
      permissions: [{ actions: r.actions, notActions: r.notActions, dataActions: r.dataActions, notDataActions: r.notDataActions }],
      assignableScopes: r.assignableScopes,
    },
  };
}

function roleSection(m: ExportModel): string[] {
  const r = m.customRole;
  const out = ["", `# ── 4. Custom role "${r.roleName}", id ${r.id} (the same id in every run of this tenant) ──`, `# ${stateOf(r.planned)}`, ...detailComments(r.planned)];
  if (writes(r.planned)) {
    if (r.planned.action === "update") out.push("# A PUT replaces assignableScopes: add any other scopes the role already has before running.");
    const scope = r.assignableScopes[0] ?? "";
    out.push(
      `az rest --method PUT --url ${shQuote(`${ARM}${scope}/providers/Microsoft.Authorization/roleDefinitions/${r.id}?api-version=${AUTHZ_API}`)} --headers Content-Type=application/json --body "$(cat <<'JSON'`,
      JSON.stringify(customRoleArmBody(m), null, 2),
      "JSON",
      ')"',
    );
  } else {
    out.push(...leftAlone(`Custom role ${r.roleName}`, r.planned));
  }
  return out;
}

function assignmentSection(m: ExportModel): string[] {
  const out = ["", "# ── 5. Role assignments for the app's service principal (names: uuidv5, as the portal names them) ──"];
  for (const [i, ra] of m.roleAssignments.entries()) {
    if (!writes(ra.planned)) {
      out.push(...leftAlone(`${ra.roleName} at ${ra.scope}`, ra.planned));
      continue;
    }
    const name = `RA_NAME_${i + 1}`;
    out.push(
      `# ${ra.roleName} at ${ra.scope}: ${stateOf(ra.planned)}`,
      ...detailComments(ra.planned),
      `${name}=$(uuidv5 "$ASSIGNMENT_NAMESPACE" "${ra.scope.toLowerCase()}|\${SP_ID,,}|${ra.roleGuid.toLowerCase()}")`,
      `az role assignment create --name "$${name}" --scope ${shQuote(ra.scope)} --role ${shQuote(ra.roleDefinitionId)} \\`,
      `  --assignee-object-id "$SP_ID" --assignee-principal-type ServicePrincipal${ra.condition ? " \\" : ""}`,
      ...(ra.condition ? [`  --condition ${shQuote(ra.condition)} --condition-version ${ra.conditionVersion ?? "2.0"}`] : []),
    );
  }
  return out;
}

function handoffSection(m: ExportModel): string[] {
  return [
    "",
    "# ── 6. Hand-off: give the vendor these values (and the secret printed above) over a secure channel ──",
    `echo "tenant id:        $TENANT_ID"`,
    `echo "client id:        $APP_ID"`,
    `echo "storage accounts: ${m.storageAccounts.map((a) => a.name).join(" ")}"`,
  ];
}

/** The whole script, LF line endings, ending in a newline. */
export function azureCliScript(m: ExportModel): string {
  return [...header(m), ...storageSection(m), ...diagnosticsSection(m), ...appSection(m), ...roleSection(m), ...assignmentSection(m), ...handoffSection(m), ""].join("\n");
}
