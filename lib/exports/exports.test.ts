import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { roleAssignmentName } from "@/lib/azure/names";
import { BUILTIN_ROLE_IDS } from "@/lib/azure/role-ids";
import { blobReadCondition } from "@/lib/steps/abac";
import { diagnosticSettingsStep } from "@/lib/steps/diagnostic-settings";
import { storageAccountIdOf } from "@/lib/steps/storage";
import roleJson from "@/lib/steps/aks-read-only-role.json";
import logAnalyticsRoleJson from "@/lib/steps/log-analytics-query-role.json";
import { azureCliScript } from "./azure-cli";
import { hclString, shq } from "./escape";
import { exportModel } from "./model";
import { terraformConfig } from "./terraform";
import { config, LOG_ANALYTICS_ROLE_ID, METADATA_ROLE_ID, plan, ROLE_ID, RUN, SUB_A, SUB_B, TENANT } from "@/test/support/exports";

const model = exportModel({ runId: RUN, tenantId: TENANT, config, plan });
const cli = azureCliScript(model);
const tf = terraformConfig(model);
/** One attribute line of the HCL, whatever its `=` alignment. */
const attrLine = (name: string, value: string) => new RegExp(`^ +${name} += ${value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m");
/** The script's role assignment PUTs: each URL's scope and its body as bash reads the quoted word. */
function assignmentPuts(script: string): { scope: string; body: unknown }[] {
  const put =
    /^RA_BODY=('(?:[^']|'\\'')*')\nuntil_replicated az rest --method PUT --url '([^']*)\/providers\/Microsoft\.Authorization\/roleAssignments\/'"\$RA_NAME_\d+"'\?api-version=2022-04-01' \\$/gm;
  return [...script.matchAll(put)].map(([, body = "", path = ""]) => ({
    scope: path.split("/").map(decodeURIComponent).join("/"),
    body: JSON.parse(body.slice(1, -1).replaceAll("'\\''", "'")) as unknown,
  }));
}
const has = (bin: string) => spawnSync(bin, ["--version"], { encoding: "utf8" }).status === 0;

describe("export model", () => {
  it("takes every decision from the stored plan", () => {
    expect(model.storageAccounts.map((a) => [a.name, a.planned.action, a.lifecycle.action])).toEqual([
      ["kubeauditeus1a2b3c", "create", "create"],
      ["contosoauditweu01", "adopt", "create"],
    ]);
    expect(model.storageAccounts[1]?.network?.action).toBe("update");
    expect(model.resourceGroups.map((g) => [g.name, g.planned.action])).toEqual([
      ["rg-kube-audit", "create"],
      ["rg-aks-dev", "no-change"],
    ]);
    expect(model.providers.filter((p) => p.planned.action === "register").map((p) => `${p.subscriptionId}/${p.namespace}`)).toEqual([
      `${SUB_B}/Microsoft.Insights`,
    ]);
    expect(model.roleAssignments).toHaveLength(6);
    expect(model.roleAssignments.every((r) => r.planned.action === "create")).toBe(true);
    expect(model.roleAssignmentRemovals).toEqual([]);
    expect(model.planErrors).toEqual([]);
  });

  it("assigns at the steps' narrow scopes: the AKS role per Entra cluster, metadata only elsewhere, Storage Blob Data Reader per audit account", () => {
    const [entra, noEntra] = config.clusters;
    expect(model.roleAssignments.map((r) => [r.roleGuid, r.scope, r.condition])).toEqual([
      [LOG_ANALYTICS_ROLE_ID, `/subscriptions/${SUB_A}`, null],
      [LOG_ANALYTICS_ROLE_ID, `/subscriptions/${SUB_B}`, null],
      [ROLE_ID, entra!.id, null],
      [METADATA_ROLE_ID, noEntra!.id, null],
      [BUILTIN_ROLE_IDS.storageBlobDataReader, storageAccountIdOf(config.storage[0]!), blobReadCondition(["kubeauditeus1a2b3c"])],
      [BUILTIN_ROLE_IDS.storageBlobDataReader, storageAccountIdOf(config.storage[1]!), blobReadCondition(["contosoauditweu01"])],
    ]);
    expect(model.customRoles.map((r) => [r.id, r.actions])).toEqual([
      [ROLE_ID, roleJson.actions],
      [METADATA_ROLE_ID, ["Microsoft.ContainerService/managedClusters/read"]],
      [LOG_ANALYTICS_ROLE_ID, logAnalyticsRoleJson.actions],
    ]);
    // No action of the vendor's roles is a wildcard read: none reaches other resources' settings or storage containers.
    expect(model.customRoles.flatMap((r) => r.actions).filter((a) => a === "*/read" || a.endsWith("/*"))).toEqual([]);
  });

  it("removes the portal's earlier subscription-wide assignments the plan narrows, by their deterministic names", () => {
    const stale = {
      stepId: "role-assignments" as const,
      key: `role-assignments.${ROLE_ID}:/subscriptions/${SUB_A}`,
      action: "remove" as const,
      resourceType: "Role assignment",
      resource: `AKS Audit Log Reader (read-only) at /subscriptions/${SUB_A}`,
      why: "Narrowed.",
    };
    const narrowing = {
      ...plan,
      steps: plan.steps.map((s) => (s.stepId === "role-assignments" ? { ...s, changes: [...s.changes, stale] } : s)),
    };
    const m = exportModel({ runId: RUN, tenantId: TENANT, config, plan: narrowing });
    expect(m.roleAssignmentRemovals).toEqual([
      expect.objectContaining({ scope: `/subscriptions/${SUB_A}`, roleGuid: ROLE_ID, subscriptionId: SUB_A }),
    ]);
    const script = azureCliScript(m);
    expect(spawnSync("bash", ["-n"], { input: script }).status).toBe(0);
    const line = script.split("\n").find((l) => l.startsWith("RA_OLD_1="));
    expect(line).toBe(`RA_OLD_1=$(uuidv5 "$ASSIGNMENT_NAMESPACE" '/subscriptions/${SUB_A}|'"\${SP_ID,,}"'|${ROLE_ID}')`);
    const removal = `az rest --method DELETE --url '/subscriptions/${SUB_A}/providers/Microsoft.Authorization/roleAssignments/'"$RA_OLD_1"'?api-version=2022-04-01'`;
    expect(script).toContain(removal);
    // Removal comes after every create: the vendor is never without access in between.
    expect(script.lastIndexOf("az rest --method PUT --url")).toBeLessThan(script.indexOf(removal));
    expect(terraformConfig(m)).toContain(`AKS Audit Log Reader (read-only) at /subscriptions/${SUB_A}`);
  });
});

describe("Azure CLI export", () => {
  it("is valid bash", () => {
    const r = spawnSync("bash", ["-n"], { input: cli, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  it("names every object as the steps do, with the exact condition and scopes", () => {
    expect(cli).toContain(`az group create --subscription '${SUB_A}' --name 'rg-kube-audit' --location 'eastus'`);
    expect(cli).not.toContain("az group create --subscription '" + SUB_B);
    expect(cli).toContain(
      `az storage account create --subscription '${SUB_A}' --resource-group 'rg-kube-audit' --name 'kubeauditeus1a2b3c' --location 'eastus'`,
    );
    expect(cli).not.toContain("az storage account create --subscription '" + SUB_B);
    expect(cli).toContain("# Storage account contosoauditweu01: adopted as it is");
    expect(cli).toContain("--kind 'StorageV2' --sku 'Standard_LRS' --hns false --https-only true --min-tls-version 'TLS1_2'");
    expect(cli).toContain("--allow-blob-public-access false --allow-cross-tenant-replication false");
    expect(cli).toContain("--default-action Deny --bypass AzureServices");
    for (const ip of config.vendor.egressIps) expect(cli).toContain(`--account-name 'kubeauditeus1a2b3c' --ip-address '${ip}'`);
    expect(cli).toContain(`--account-name 'contosoauditweu01' --ip-address '20.42.7.1'`);
    expect(cli).toContain(`az provider register --namespace 'Microsoft.Insights' --subscription '${SUB_B}' --wait`);
    expect(cli).toContain('"prefixMatch": [\n            "insights-logs-kube-audit/"');
    expect(cli).toContain('"daysAfterModificationGreaterThan": 90');
    for (const c of config.clusters)
      expect(cli).toContain(`az monitor diagnostic-settings create --name 'aks-onboarding-kube-audit' --resource '${c.id}'`);
    expect(cli).toContain(`--storage-account '${storageAccountIdOf(config.storage[1]!)}'`);
    expect(cli).toContain(`APP_UNIQUE_NAME='expel-workbench-aks'\nAPP_URL="$GRAPH/applications(uniqueName='$APP_UNIQUE_NAME')"`);
    expect(cli).toContain('"displayName": "Expel Workbench (AKS audit)"');
    // Graph and Resource Manager are the signed-in cloud's, never the public cloud's hosts.
    expect(cli).toContain("GRAPH_RESOURCE=$(az cloud show --query endpoints.microsoftGraphResourceId -o tsv)");
    expect(cli).not.toMatch(/graph\.microsoft\.com|management\.azure\.com/);
    expect(cli).toContain(
      'az rest --method POST --url "$GRAPH/servicePrincipals/$LA_SP_ID/appRoleAssignedTo" --resource "$GRAPH_RESOURCE"',
    );
    expect(cli).toContain(
      `az ad app credential reset --id "$APP_ID" --append --display-name 'aks-onboarding ${RUN}' --end-date "$(date -u -d '+180 days'`,
    );
    expect(cli).toMatch(/WARNING: the next command prints the new client secret/);
    // The role is PUT at its first assignable scope, sorted (as putCustomRoleDefinition does).
    expect(cli).toContain(`/subscriptions/${SUB_B}/providers/Microsoft.Authorization/roleDefinitions/${ROLE_ID}?api-version=2022-04-01`);
    expect(cli).toContain(`"roleName": "${roleJson.roleName}"`);
    expect(cli).toContain(`"notDataActions": [\n          "${roleJson.notDataActions[0]}"`);
    expect(cli).toContain(`"/subscriptions/${SUB_B}"`);
    const roleDef = (sub: string, guid: string) => `/subscriptions/${sub}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
    const reader = BUILTIN_ROLE_IDS.storageBlobDataReader;
    const put = (scope: string, roleDefinitionId: string, condition?: string) => ({
      scope,
      body: {
        properties: {
          roleDefinitionId,
          principalId: "__SP_ID__",
          principalType: "ServicePrincipal",
          ...(condition ? { condition, conditionVersion: "2.0" } : {}),
        },
      },
    });
    expect(assignmentPuts(cli)).toEqual([
      put(`/subscriptions/${SUB_A}`, roleDef(SUB_A, LOG_ANALYTICS_ROLE_ID)),
      put(`/subscriptions/${SUB_B}`, roleDef(SUB_B, LOG_ANALYTICS_ROLE_ID)),
      put(config.clusters[0]!.id, roleDef(SUB_A, ROLE_ID)),
      put(config.clusters[1]!.id, roleDef(SUB_B, METADATA_ROLE_ID)),
      put(storageAccountIdOf(config.storage[0]!), roleDef(SUB_A, reader), blobReadCondition(["kubeauditeus1a2b3c"])),
      put(storageAccountIdOf(config.storage[1]!), roleDef(SUB_B, reader), blobReadCondition(["contosoauditweu01"])),
    ]);
    // The service principal's id replaces the placeholder; the quoted pattern and replacement are literal.
    expect(cli.match(/ --body "\$\{RA_BODY\/\/"__SP_ID__"\/"\$SP_ID"\}"$/gm)).toHaveLength(6);
    expect(cli).toContain("#   The vendor doesn't get: a kubeconfig");
  });

  it("names role assignments with the portal's UUIDv5 (bash uuidv5 == roleAssignmentName)", () => {
    const fn = /^uuidv5\(\) \{[\s\S]*?^\}$/m.exec(cli)?.[0];
    expect(fn).toBeDefined();
    const principal = "3F2504E0-4F89-41D3-9A0C-0305E82C3301";
    for (const ra of model.roleAssignments) {
      const line = cli.split("\n").find((l) => l.includes(`'${ra.scope.toLowerCase()}|'"\${SP_ID,,}"'|${ra.roleGuid.toLowerCase()}'`));
      expect(line).toBeDefined();
      const r = spawnSync(
        "bash",
        ["-c", `${fn}\nASSIGNMENT_NAMESPACE=${model.assignmentNamespace}\nSP_ID=${principal}\n${line}\necho "$${line?.split("=")[0]}"`],
        { encoding: "utf8" },
      );
      expect(r.stderr).toBe("");
      expect(r.stdout.trim()).toBe(roleAssignmentName(ra.scope, principal, ra.roleGuid));
    }
  });

  it("retries a command only while Azure replicates a new object, keeping its output and showing any other error", () => {
    const fn = /^until_replicated\(\) \{[\s\S]*?^\}$/m.exec(cli)?.[0];
    expect(fn).toBeDefined();
    const run = (command: string) =>
      spawnSync("bash", ["-c", `set -euo pipefail\n${fn}\nsleep() { :; }\n${counter}\n${command}`], { encoding: "utf8" });
    // Each try runs in a subshell ($( )): the count of tries lives in a file.
    const counter = 'C=$(mktemp); echo 0 > "$C"; tick() { n=$(( $(cat "$C") + 1 )); echo "$n" > "$C"; }; tries() { cat "$C"; }';
    // Fails twice as a brand-new service principal does, then answers.
    const flaky = `flaky() { tick; if (( $(tries) < 3 )); then echo "ERROR: The appId 'x' of the service principal does not reference a valid application object." >&2; return 1; fi; echo '{"id":"sp"}'; }`;
    const replicated = run(`${flaky}\nout=$(until_replicated flaky)\necho "$out"`);
    expect(replicated.status).toBe(0);
    expect(replicated.stdout.trim()).toBe('{"id":"sp"}');
    expect(replicated.stderr.match(/trying again in 5 s/g)).toHaveLength(2);
    // Any other error stops at once, shown as it was.
    const denied = run(
      `denied() { tick; echo "ERROR: (AuthorizationFailed) no access" >&2; return 1; }\nuntil_replicated denied || echo "tries $(tries)"`,
    );
    expect(denied.stdout.trim()).toBe("tries 1");
    expect(denied.stderr.trim()).toBe("ERROR: (AuthorizationFailed) no access");
    // And a replication that never ends stops after 60 tries.
    const never = run(
      `never() { tick; echo "RoleDefinitionDoesNotExist" >&2; return 1; }\nuntil_replicated never || echo "tries $(tries)"`,
    );
    expect(never.stdout.trim()).toBe("tries 60");
  });

  it("never contains a secret, and leaves objects already in place alone", () => {
    const inPlace = exportModel({
      runId: RUN,
      tenantId: TENANT,
      config,
      plan: { ...plan, steps: plan.steps.map((s) => ({ ...s, changes: s.changes.map((c) => ({ ...c, action: "no-change" as const })) })) },
    });
    const script = azureCliScript(inPlace);
    expect(spawnSync("bash", ["-n"], { input: script }).status).toBe(0);
    expect(script).not.toMatch(
      /az (group|storage account) create|az rest --method (PUT|POST|PATCH)|credential reset|management-policy create|diagnostic-settings create/,
    );
    expect(script).toContain("# Client secret aks-onboarding run_exports_1: already in place");
  });
});

describe("Terraform export", () => {
  it("is formatted as terraform fmt leaves it (or, without terraform, structurally sound HCL)", () => {
    const lines = tf.split("\n");
    let depth = 0;
    for (const line of lines) {
      const t = line.trim();
      expect(line).not.toMatch(/\t|\s$/);
      if (t === "" || t.startsWith("#")) continue;
      if (t === "}") {
        depth -= 1;
        expect(depth).toBeGreaterThanOrEqual(0);
        continue;
      }
      expect(line.startsWith("  ".repeat(depth)) && !line.startsWith("  ".repeat(depth + 1))).toBe(true);
      if (t.endsWith("{")) {
        expect(t).toMatch(
          /^(terraform|locals|required_providers|features|network_rules|rule|filters|actions|base_blob|enabled_log|required_resource_access|resource_access|permissions|(provider|output) "[\w-]+"|(resource|data) "[a-z_]+" "[a-z0-9_]+") \{$/,
        );
        depth += 1;
      } else {
        expect(t).toMatch(/^[a-z_]+ +=\s\S/);
      }
    }
    expect(depth).toBe(0);
    if (!has("terraform")) {
      console.warn("terraform is not installed: skipped only the `terraform fmt -check` assertion; the structural HCL check above ran.");
      return;
    }
    const r = spawnSync("terraform", ["fmt", "-"], { input: tf, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(tf);
    expect(spawnSync("terraform", ["fmt", "-check", "-"], { input: tf, encoding: "utf8" }).status).toBe(0);
  });

  it("names every object as the steps do, with the exact condition and scopes", () => {
    expect(tf).toContain(
      `provider "azurerm" {\n  alias                           = "sub_${SUB_A}"`.replace(`sub_${SUB_A}`, `sub_${SUB_A.replace(/-/g, "_")}`),
    );
    expect(tf).toContain(`resource "azurerm_resource_group" "rg_1"`);
    expect(tf).toContain(`data "azurerm_resource_group" "rg_2"`);
    expect(tf).toContain(`resource "azurerm_resource_provider_registration" "microsoft_insights_${SUB_B.replace(/-/g, "_")}"`);
    expect(tf).toMatch(
      /resource "azurerm_storage_account" "sa_kubeauditeus1a2b3c" \{[\s\S]*?name += "kubeauditeus1a2b3c"[\s\S]*?min_tls_version += "TLS1_2"/,
    );
    expect(tf).toMatch(/https_traffic_only_enabled += true/);
    expect(tf).toMatch(/allow_nested_items_to_be_public += false/);
    expect(tf).toMatch(/cross_tenant_replication_enabled += false/);
    expect(tf).toMatch(/ip_rules += \["20\.42\.7\.1", "52\.170\.9\.80"\]/);
    expect(tf).toContain(`data "azurerm_storage_account" "sa_contosoauditweu01"`);
    expect(tf).not.toContain(`resource "azurerm_storage_account" "sa_contosoauditweu01"`);
    expect(tf).toContain(`storage_account_id = data.azurerm_storage_account.sa_contosoauditweu01.id`);
    expect(tf).toMatch(/delete_after_days_since_modification_greater_than = 90/);
    expect(tf).toMatch(/prefix_match = \["insights-logs-kube-audit\/"\]/);
    expect(tf.match(/name += "aks-onboarding-kube-audit"/g)).toHaveLength(2);
    expect(tf).toContain(`target_resource_id = "${config.clusters[1]!.id}"`);
    expect(tf).toMatch(/display_name += "Expel Workbench \(AKS audit\)"/);
    expect(tf).toContain(`uniqueName "expel-workbench-aks"`);
    expect(tf).toContain(`resource "azuread_app_role_assignment" "log_analytics_data_read"`);
    expect(tf).toContain(`app_role_id         = data.azuread_service_principal.log_analytics.app_role_ids["Data.Read"]`);
    expect(tf).toMatch(/resource "azuread_application_password" "vendor" \{[\s\S]*?display_name += "aks-onboarding run_exports_1"/);
    expect(tf).toContain("offset_days = 180");
    expect(tf).toContain(`role_definition_id = "${ROLE_ID}"`);
    expect(tf).toMatch(new RegExp(`assignable_scopes += \\["/subscriptions/${SUB_B}", "/subscriptions/${SUB_A}"\\]`));
    expect(tf).toContain(`not_data_actions = ["${roleJson.notDataActions[0]}"]`);
    expect(tf).toMatch(attrLine("condition", hclString(blobReadCondition(["kubeauditeus1a2b3c"]))));
    expect(tf).toMatch(attrLine("condition", hclString(blobReadCondition(["contosoauditweu01"]))));
    expect(tf).toMatch(attrLine("condition_version", '"2.0"'));
    expect(tf.match(/resource "azurerm_role_assignment"/g)).toHaveLength(6);
    expect(tf).toMatch(attrLine("scope", `"/subscriptions/${SUB_B}"`));
    expect(tf).toMatch(attrLine("depends_on", "[azurerm_role_definition.aks_read_only]"));
    expect(tf).toMatch(attrLine("depends_on", "[azurerm_role_definition.aks_cluster_metadata]"));
    expect(tf).toMatch(attrLine("depends_on", "[azurerm_role_definition.log_analytics_query]"));
    expect(tf).toMatch(attrLine("scope", `"${config.clusters[1]!.id}"`));
    expect(tf).toMatch(attrLine("scope", `"${storageAccountIdOf(config.storage[1]!)}"`));
    expect(tf.match(/skip_service_principal_aad_check = true/g)).toHaveLength(6);
  });

  it("names role assignments with the portal's UUIDv5 (terraform uuidv5 == roleAssignmentName)", () => {
    const ra = model.roleAssignments[0]!;
    const expr = /name += (uuidv5\(.*\))$/m.exec(tf)?.[1];
    expect(expr).toBe(`uuidv5(local.assignment_namespace, lower("${ra.scope}|\${local.vendor_principal_id}|${ra.roleGuid}"))`);
    if (!has("terraform")) {
      console.warn("terraform is not installed: the expression is checked as text only.");
      return;
    }
    const principal = "3F2504E0-4F89-41D3-9A0C-0305E82C3301";
    const dir = mkdtempSync(join(tmpdir(), "tf-uuid-"));
    try {
      const concrete = expr!
        .replace("local.assignment_namespace", `"${model.assignmentNamespace}"`)
        .replace("${local.vendor_principal_id}", principal);
      const r = spawnSync("terraform", ["console"], { input: concrete, cwd: dir, encoding: "utf8" });
      expect(r.stdout.trim()).toBe(`"${roleAssignmentName(ra.scope, principal, ra.roleGuid)}"`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a cluster the plan found at the diagnostic-settings limit", () => {
  const blockedCluster = config.clusters[0]!;
  const full = Array.from({ length: 5 }, (_, i) => ({
    name: `other-${i}`,
    storageAccountId: null,
    workspaceId: null,
    eventHubAuthorizationRuleId: null,
    enabledCategories: ["kube-apiserver"],
  }));
  const diagnostics = diagnosticSettingsStep.plan({} as never, {
    clusters: config.clusters.map((c, i) => ({
      cluster: c,
      storageAccountId: storageAccountIdOf(config.storage[i]!),
      settings: c.id === blockedCluster.id ? full : [],
    })),
  });
  const blockedPlan = { ...plan, steps: plan.steps.map((s) => (s.stepId === "diagnostic-settings" ? { ...s, changes: diagnostics } : s)) };
  const blockedModel = exportModel({ runId: RUN, tenantId: TENANT, config, plan: blockedPlan });

  it("is a comment with the reason in both exports, never a command Azure would refuse", () => {
    expect(diagnostics.find((c) => c.attention)?.attention?.subject).toBe(blockedCluster.name);
    const script = azureCliScript(blockedModel);
    const hcl = terraformConfig(blockedModel);
    expect(script).not.toContain(`--resource ${shq(blockedCluster.id)}`);
    expect(script).toMatch(new RegExp(`# ${blockedCluster.name}: left out, .*5 diagnostic settings`));
    expect(hcl).not.toContain(`target_resource_id = ${hclString(blockedCluster.id)}`);
    expect(hcl).toMatch(new RegExp(`# ${blockedCluster.name}: left out, .*5 diagnostic settings`));
    // The other clusters' settings are still written.
    for (const c of config.clusters.slice(1)) expect(script).toContain(`--resource ${shq(c.id)}`);
  });
});
