// The run's plan as an Azure CLI bash script, for change approval: the same names, bodies and scopes the steps would write.
// Every value from the run's config or plan is a shq word or a oneLine comment (./escape): none can start a command.
import "server-only";
import { CONDITION_VERSION } from "@/lib/azure/role-ids";
import { oneLine, shq } from "./escape";
import type { ExportModel, Planned } from "./model";
import { writes } from "./model";

const AUTHZ_API = "2022-04-01";
// The app's body names the Data.Read role by this placeholder: its id is only known once the script has read it from Graph.
const ROLE_PLACEHOLDER = "__DATA_READ_ROLE_ID__";
// Role assignment bodies name the service principal by this placeholder: its object id is read once the script made it.
const SP_PLACEHOLDER = "__SP_ID__";

const comment = (text: string) => `# ${oneLine(text)}`;
const stateOf = (p: Planned) => (p.action === "unplanned" ? "not in the stored plan; written as the step would" : p.action);
/** The run's tags as az's `--tags` words, each one quoted word `name=value`. */
const tagWords = (m: ExportModel) => m.tags.map((t) => shq(`${t.name}=${t.value}`)).join(" ");
const detailComments = (p: Planned) => p.details.map((d) => comment(`  ${d}`));
/** One line naming an object the plan found in place: the script leaves it alone. */
const leftAlone = (what: string, p: Planned) => [
  comment(`${what}: ${p.action === "adopt" ? "adopted as it is" : "already in place"} (${p.why}). Nothing to run.`),
];
/** An ARM path with each segment percent-encoded, so no value adds a segment or a query. */
const armPath = (path: string) => path.split("/").map(encodeURIComponent).join("/");
/** A JMESPath raw string literal ('…' with \ and \' escaped). */
const jmesRaw = (value: string) => `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;

function header(m: ExportModel): string[] {
  return [
    "#!/usr/bin/env bash",
    comment(`AKS audit-log onboarding, run ${m.runId}: the portal's plan as Azure CLI commands, for change approval.`),
    comment(
      `Generated from the plan read from Azure at ${m.planComputedAt || "(not planned yet)"}; objects that plan found in place are comments.`,
    ),
    "# Needs: az 2.45+ signed in to the tenant (az login --tenant …), bash 4+, GNU coreutils (sha1sum, date -d). Run it as one admin with:",
    "#   Owner or User Access Administrator on every subscription below (custom role, role assignments),",
    "#   Contributor on the resource groups (storage, diagnostic settings), and Cloud Application Administrator",
    "#   (app registration, admin consent for Log Analytics Data.Read).",
    "set -euo pipefail",
    "",
    `TENANT_ID=${shq(m.tenantId)}`,
    `if [[ "$(az account show --query tenantId -o tsv)" != "$TENANT_ID" ]]; then`,
    `  echo "Sign in to tenant $TENANT_ID first: az login --tenant $TENANT_ID" >&2`,
    "  exit 1",
    "fi",
    "# Microsoft Graph of the cloud az is signed in to (public, sovereign or a test double). ARM calls use paths, which az rest",
    "# sends to that cloud's Resource Manager. Graph calls name their token's resource: az rest picks it by URL prefix and",
    "# prefers Resource Manager's (azure-cli src/azure-cli-core/azure/cli/core/util.py, send_raw_request).",
    "GRAPH_RESOURCE=$(az cloud show --query endpoints.microsoftGraphResourceId -o tsv)",
    'GRAPH="${GRAPH_RESOURCE%/}/v1.0"',
    "",
    "# RFC 4122 UUIDv5 (SHA-1): the portal names each role assignment uuidv5(namespace, lower(scope|principalObjectId|roleGuid)),",
    "# so this script, a retry and the portal all address the same assignment.",
    "uuidv5() {",
    // Only hex digits of the namespace reach printf %b: the same bytes for a UUID, and no escape for anything else.
    '  local ns="${1//[^0-9a-fA-F]/}" h v',
    `  h=$({ printf '%b' "$(printf '%s' "$ns" | sed 's/../\\\\x&/g')"; printf '%s' "$2"; } | sha1sum | cut -c1-32)`,
    "  v=$(( (16#${h:16:1} & 3) | 8 ))",
    `  printf '%s-%s-5%s-%x%s-%s\\n' "\${h:0:8}" "\${h:8:4}" "\${h:13:3}" "$v" "\${h:17:3}" "\${h:20:12}"`,
    "}",
    `ASSIGNMENT_NAMESPACE=${shq(m.assignmentNamespace)}`,
    "",
    "# Entra and Azure RBAC replicate a new object within seconds, custom roles within minutes; until then a command naming",
    "# it is refused. This runs such a command again every 5 s, 60 times (custom roles: ~5 min, hashicorp/terraform-provider-",
    '# azurerm#5038), on those errors only: NoBackingApplicationObject (new app), PrincipalNotFound and "Not a valid reference',
    '# update" (new service principal; microsoftgraph/msgraph-bicep-types#193), RoleDefinitionDoesNotExist (new custom role).',
    "until_replicated() {",
    "  local try err replicating='NoBackingApplicationObject|does not reference a valid application object|PrincipalNotFound|Not a valid reference update|RoleDefinitionDoesNotExist'",
    "  for ((try = 1; ; try++)); do",
    // stderr into $err, stdout where it was: the command's output (JSON, ids) stays the caller's.
    '    { err=$("$@" 2>&1 >&3 3>&-); } 3>&1 && return 0',
    "    if (( try == 60 )) || [[ ! $err =~ $replicating ]]; then",
    "      printf '%s\\n' \"$err\" >&2",
    "      return 1",
    "    fi",
    '    echo "Azure has not replicated a new object yet; trying again in 5 s ($try/60): ${*:1:4}" >&2',
    "    sleep 5",
    "  done",
    "}",
    ...(m.planErrors.length > 0
      ? [
          "",
          "# WARNING: the portal could not plan every step; those steps' commands are what they would write, unchecked:",
          ...m.planErrors.map((e) => comment(`  ${e.stepId}: ${e.message}`)),
        ]
      : []),
  ];
}

function storageSection(m: ExportModel): string[] {
  const out = ["", "# ── 1. Audit log storage: one account per AKS region ──"];
  for (const p of m.providers) {
    out.push(
      writes(p.planned)
        ? `az provider register --namespace ${shq(p.namespace)} --subscription ${shq(p.subscriptionId)} --wait`
        : comment(`${p.namespace} is already registered in ${p.subscriptionId}.`),
    );
  }
  for (const g of m.resourceGroups) {
    out.push(
      writes(g.planned)
        ? `az group create --subscription ${shq(g.subscriptionId)} --name ${shq(g.name)} --location ${shq(g.location)} --tags ${tagWords(m)}`
        : comment(
            `Resource group ${g.name} in ${g.subscriptionId}: ${g.planned.action === "unplanned" ? "not in the stored plan" : "already exists"}.`,
          ),
    );
  }
  const b = m.storageBaseline;
  const tls = shq(b.minimumTlsVersion);
  for (const a of m.storageAccounts) {
    const where = `--subscription ${shq(a.subscriptionId)} --resource-group ${shq(a.resourceGroup)}`;
    const loc = `${where} --name ${shq(a.name)}`;
    const account = `${where} --account-name ${shq(a.name)}`;
    out.push("", comment(`Storage account ${a.name} (${a.region}): ${stateOf(a.planned)}`), ...detailComments(a.planned));
    if (a.planned.action === "create" || a.planned.action === "unplanned") {
      out.push(
        `az storage account create ${loc} --location ${shq(a.region)} \\`,
        `  --kind ${shq(b.kind)} --sku ${shq(b.sku)} --hns false --https-only ${b.httpsOnly} --min-tls-version ${tls} \\`,
        `  --allow-blob-public-access ${b.allowBlobPublicAccess} --allow-cross-tenant-replication ${b.allowCrossTenantReplication} \\`,
        `  --public-network-access Enabled --default-action ${m.allowedIps ? "Deny" : "Allow"} --bypass AzureServices --tags ${tagWords(m)}`,
      );
      for (const ip of m.allowedIps ?? []) out.push(`az storage account network-rule add ${account} --ip-address ${shq(ip)}`);
    } else if (a.planned.action === "update") {
      out.push(
        `az storage account update ${loc} --https-only true --min-tls-version ${tls} --allow-blob-public-access false --allow-cross-tenant-replication false`,
      );
    } else {
      out.push(...leftAlone(`Storage account ${a.name}`, a.planned));
    }
    if (a.network && a.network.action === "update") {
      out.push(comment(`Firewall of ${a.name}: ${a.network.why}`), ...detailComments(a.network));
      out.push(`az storage account update ${loc} --default-action Deny --bypass AzureServices --min-tls-version ${tls}`);
      for (const ip of m.allowedIps ?? []) out.push(`az storage account network-rule add ${account} --ip-address ${shq(ip)}`);
      for (const ip of a.removedIps) out.push(`az storage account network-rule remove ${account} --ip-address ${shq(ip)}`);
    }
    out.push(comment(`Lifecycle rule ${m.lifecycleRule.name} on ${a.name}: ${stateOf(a.lifecycle)}`));
    if (writes(a.lifecycle)) {
      if (a.lifecycle.action === "update")
        out.push("# The account has its own policy: this command replaces the whole policy, so merge its other rules into the JSON first.");
      out.push(`az storage account management-policy create ${account} --policy ${shq(lifecyclePolicyJson(m), { multiline: true })}`);
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
          definition: {
            filters: { blobTypes: r.blobTypes, prefixMatch: [r.prefix] },
            actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: r.deleteAfterDays } } },
          },
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
    if (d.planned.blocked !== undefined) {
      out.push(comment(`${d.clusterName}: left out, the plan found it can't take the setting. ${d.planned.blocked}`));
      continue;
    }
    if (!writes(d.planned)) {
      out.push(...leftAlone(`Diagnostic setting on ${d.clusterName}`, d.planned));
      continue;
    }
    out.push(
      comment(`${d.clusterName}: ${stateOf(d.planned)}`),
      `az monitor diagnostic-settings create --name ${shq(d.name)} --resource ${shq(d.clusterId)} \\`,
      `  --storage-account ${shq(d.storageAccountId)} --logs ${shq(JSON.stringify([{ category: d.category, enabled: true }]))}`,
    );
  }
  return out;
}

function appSection(m: ExportModel): string[] {
  const a = m.app;
  const la = shq(a.logAnalyticsAppId);
  const out = [
    "",
    comment(`── 3. App registration ${a.displayName} (uniqueName ${a.uniqueName}), Log Analytics ${a.dataReadRole}, client secret ──`),
  ];
  if (writes(a.logAnalyticsServicePrincipal))
    out.push("# The tenant has no Log Analytics API service principal yet:", `az ad sp create --id ${la}`);
  out.push(
    // An OData string literal ('' for ') in a URL path: the name can't close the literal or add to the URL.
    `APP_UNIQUE_NAME=${shq(encodeURIComponent(a.uniqueName.replace(/'/g, "''")))}`,
    `APP_URL="$GRAPH/applications(uniqueName='$APP_UNIQUE_NAME')"`,
    `LA_SP_ID=$(az ad sp show --id ${la} --query id -o tsv)`,
    `DATA_READ_ROLE_ID=$(az ad sp show --id ${la} --query ${shq(`appRoles[?value==${jmesRaw(a.dataReadRole)}].id | [0]`)} -o tsv)`,
  );
  if (writes(a.planned)) {
    const body = JSON.stringify(
      {
        displayName: a.displayName,
        signInAudience: "AzureADMyOrg",
        requiredResourceAccess: [{ resourceAppId: a.logAnalyticsAppId, resourceAccess: [{ id: ROLE_PLACEHOLDER, type: "Role" }] }],
      },
      null,
      2,
    );
    out.push(
      comment(`App registration: ${stateOf(a.planned)} (upsert by uniqueName, as the portal does)`),
      ...detailComments(a.planned),
      ...(a.planned.action === "update"
        ? ["# This replaces requiredResourceAccess: keep the app's other application permissions in the body."]
        : []),
      `APP_BODY=${shq(body, { multiline: true })}`,
      // Quoted pattern and replacement: both literal (bash 5.2 would otherwise read & in the replacement as the match).
      `az rest --method PATCH --url "$APP_URL" --resource "$GRAPH_RESOURCE" --headers Prefer=create-if-missing Content-Type=application/json --body "\${APP_BODY//"${ROLE_PLACEHOLDER}"/"$DATA_READ_ROLE_ID"}"`,
    );
  } else {
    out.push(...leftAlone(`App registration ${a.uniqueName}`, a.planned));
  }
  out.push(`APP_ID=$(az rest --method GET --url "$APP_URL" --resource "$GRAPH_RESOURCE" --query appId -o tsv)`);
  if (writes(a.servicePrincipal))
    out.push(
      "# Read first: a second run of this script finds the service principal the first one made.",
      `EXISTING_SP_ID=$(az ad sp list --filter "appId eq '$APP_ID'" --query '[0].id' -o tsv)`,
      `if [[ -z $EXISTING_SP_ID ]]; then until_replicated az ad sp create --id "$APP_ID"; fi`,
    );
  else out.push(...leftAlone("The app's service principal", a.servicePrincipal));
  out.push(`SP_ID=$(az ad sp show --id "$APP_ID" --query id -o tsv)`);
  if (writes(a.consent)) {
    out.push(
      comment(`Admin consent: grant Log Analytics API ${a.dataReadRole} (an application permission) to the app's service principal.`),
      // Posted to the resource's (Log Analytics API's) service principal: Graph answers "Not a valid reference update."
      // when the path names another one (learn.microsoft.com/graph/api/serviceprincipal-post-approleassignedto).
      `GRANTED=$(until_replicated az rest --method GET --url "$GRAPH/servicePrincipals/$SP_ID/appRoleAssignments" --resource "$GRAPH_RESOURCE" \\`,
      `  --query "length(value[?appRoleId=='$DATA_READ_ROLE_ID'])" -o tsv)`,
      "if [[ $GRANTED == 0 ]]; then",
      `  until_replicated az rest --method POST --url "$GRAPH/servicePrincipals/$LA_SP_ID/appRoleAssignedTo" --resource "$GRAPH_RESOURCE" \\`,
      "    --headers Content-Type=application/json \\",
      `    --body "{\\"principalId\\": \\"$SP_ID\\", \\"resourceId\\": \\"$LA_SP_ID\\", \\"appRoleId\\": \\"$DATA_READ_ROLE_ID\\"}"`,
      "fi",
    );
  } else {
    out.push(...leftAlone(`Admin consent for ${a.dataReadRole}`, a.consent));
  }
  if (writes(a.secret)) {
    out.push(
      comment(`Client secret "${a.secretName}", valid ${a.secretLifetimeDays} days.`),
      "# WARNING: the next command prints the new client secret in clear text. Run it where nobody watches the screen and no",
      "# log or CI output records it, hand the secret to the vendor over a secure channel, then clear the terminal.",
      // A second run of the script makes no second secret: the first run printed it.
      `SECRETS_NAMED=$(az ad app credential list --id "$APP_ID" --query ${shq(`length([?displayName==${jmesRaw(a.secretName)}])`)} -o tsv)`,
      "if [[ $SECRETS_NAMED == 0 ]]; then",
      `  az ad app credential reset --id "$APP_ID" --append --display-name ${shq(a.secretName)} --end-date "$(date -u -d ${shq(`+${a.secretLifetimeDays} days`)} +%Y-%m-%dT%H:%M:%SZ)"`,
      "else",
      `  echo ${shq(`The client secret "${oneLine(a.secretName)}" exists (an earlier run of this script printed it); to make another, run az ad app credential reset --append.`)}`,
      "fi",
    );
  } else {
    out.push(...leftAlone(`Client secret ${a.secretName}`, a.secret));
  }
  return out;
}

type CustomRoleModel = ExportModel["customRoles"][number];

/** A role's ARM body, as lib/steps/*-role.json defines it and the custom-role step PUTs it. */
export function customRoleArmBody(r: CustomRoleModel): object {
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
  const out = ["", "# ── 4. Custom roles (the same ids in every run of this tenant) ──"];
  for (const r of m.customRoles) {
    out.push(comment(`Custom role "${r.roleName}", id ${r.id}: ${stateOf(r.planned)}`), ...detailComments(r.planned));
    if (writes(r.planned)) {
      if (r.planned.action === "update")
        out.push("# A PUT replaces assignableScopes: add any other scopes the role already has before running.");
      const path = `${armPath(r.assignableScopes[0] ?? "")}/providers/Microsoft.Authorization/roleDefinitions/${encodeURIComponent(r.id)}?api-version=${AUTHZ_API}`;
      out.push(
        `az rest --method PUT --url ${shq(path)} --headers Content-Type=application/json --body ${shq(JSON.stringify(customRoleArmBody(r), null, 2), { multiline: true })}`,
      );
    } else {
      out.push(...leftAlone(`Custom role ${r.roleName}`, r.planned));
    }
  }
  return out;
}

/** The uuidv5 assignment name of one scope and role, as a bash assignment to `variable`. */
const assignmentNameLine = (variable: string, scope: string, roleGuid: string) =>
  // One word: the quoted scope, the principal id (lowercased by bash), the quoted role GUID.
  `${variable}=$(uuidv5 "$ASSIGNMENT_NAMESPACE" ${shq(`${scope.toLowerCase()}|`)}"\${SP_ID,,}"${shq(`|${roleGuid.toLowerCase()}`)})`;

/** An ARM role assignment URL for az rest: the quoted scope path, the bash variable holding the name, the quoted query. */
const assignmentUrl = (scope: string, variable: string) =>
  `${shq(`${armPath(scope)}/providers/Microsoft.Authorization/roleAssignments/`)}"$${variable}"${shq(`?api-version=${AUTHZ_API}`)}`;

// Role assignments go through az rest, not `az role assignment create/delete`: Debian's and Ubuntu's azure-cli packages
// crash in both ('RoleAssignmentsOperations' object has no attribute 'config': the packaged azure-mgmt-authorization is
// newer than the CLI expects, Azure/azure-cli#20546), and the PUT body is exactly what the portal sends.
function assignmentSection(m: ExportModel): string[] {
  const out = ["", "# ── 5. Role assignments for the app's service principal (names: uuidv5, as the portal names them) ──"];
  for (const [i, ra] of m.roleAssignments.entries()) {
    if (!writes(ra.planned)) {
      out.push(...leftAlone(`${ra.roleName} at ${ra.scope}`, ra.planned));
      continue;
    }
    const name = `RA_NAME_${i + 1}`;
    const body = JSON.stringify(
      {
        properties: {
          roleDefinitionId: ra.roleDefinitionId,
          principalId: SP_PLACEHOLDER,
          principalType: "ServicePrincipal",
          ...(ra.condition ? { condition: ra.condition, conditionVersion: ra.conditionVersion ?? CONDITION_VERSION } : {}),
        },
      },
      null,
      2,
    );
    out.push(
      comment(`${ra.roleName} at ${ra.scope}: ${stateOf(ra.planned)}`),
      ...detailComments(ra.planned),
      assignmentNameLine(name, ra.scope, ra.roleGuid),
      `RA_BODY=${shq(body, { multiline: true })}`,
      `until_replicated az rest --method PUT --url ${assignmentUrl(ra.scope, name)} \\`,
      `  --headers Content-Type=application/json --body "\${RA_BODY//"${SP_PLACEHOLDER}"/"$SP_ID"}"`,
    );
  }
  if (m.roleAssignmentRemovals.length > 0) {
    out.push("", "# Narrowing: the portal's earlier, broader assignments (its own names only), removed after the ones above exist.");
  }
  for (const [i, ra] of m.roleAssignmentRemovals.entries()) {
    const name = `RA_OLD_${i + 1}`;
    out.push(
      comment(`Remove ${ra.roleName} at ${ra.scope}: ${ra.planned.why}`),
      assignmentNameLine(name, ra.scope, ra.roleGuid),
      `az rest --method DELETE --url ${assignmentUrl(ra.scope, name)}`,
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
    `printf 'storage accounts: %s\\n' ${shq(m.storageAccounts.map((a) => a.name).join(" "))}`,
  ];
}

/** The whole script, LF line endings, ending in a newline. */
export function azureCliScript(m: ExportModel): string {
  return [
    ...header(m),
    ...storageSection(m),
    ...diagnosticsSection(m),
    ...appSection(m),
    ...roleSection(m),
    ...assignmentSection(m),
    ...handoffSection(m),
    "",
  ].join("\n");
}
