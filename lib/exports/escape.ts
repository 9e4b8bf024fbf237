// Escaping for the change-approval exports: every value from a run's config or stored plan reaches the bash script or the
// Terraform file only through one of these, so no value can end a comment, a quoted word or an HCL string.
import "server-only";
import { createHash } from "node:crypto";

// Controls (C0 with CR/LF/TAB, DEL, C1 with NEL U+0085), line/paragraph separators, and bidi controls: they end a line
// for some reader (bash, HCL, an editor, a terminal) or make a reviewer see text in another order than the shell runs it.
const UNSAFE = "\\p{Cc}\\p{Zl}\\p{Zp}\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069";
const UNSAFE_RUN = new RegExp(`[${UNSAFE}]+`, "gu");
const UNSAFE_CHAR = new RegExp(`[${UNSAFE}]`, "u");
const UNSAFE_EXCEPT_LF = new RegExp(`(?!\\n)[${UNSAFE}]`, "u");
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const hex = (code: number, width: number) => code.toString(16).toUpperCase().padStart(width, "0");
/** Lone UTF-16 surrogates can't be written as UTF-8: they become U+FFFD. */
const wellFormed = (value: string) => value.replace(LONE_SURROGATE, "\uFFFD");

/** Text for a one-line comment (bash or HCL): each run of line breaks and control characters becomes one space. */
export function oneLine(text: string): string {
  return wellFormed(text).replace(UNSAFE_RUN, " ");
}

/**
 * One bash word that stays literal. Plain single quotes (' → '\''); a value with control or line-break characters is
 * written as $'…' with those characters as escapes, so the script stays one printable line per command. NUL is dropped:
 * no program's argv can carry it.
 */
export function shq(value: string, options: { multiline?: boolean } = {}): string {
  const v = wellFormed(value).replace(/\0/g, "");
  const unsafe = options.multiline ? UNSAFE_EXCEPT_LF : UNSAFE_CHAR;
  if (!unsafe.test(v)) return `'${v.replace(/'/g, `'\\''`)}'`;
  let out = "";
  for (const ch of v) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === "\\" || ch === "'") out += `\\${ch}`;
    else if (!UNSAFE_CHAR.test(ch)) out += ch;
    // Fixed width: bash reads up to 2 hex digits after \x and 4 after \u, so a following hex digit stays literal.
    else out += code < 0x80 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  }
  return `$'${out}'`;
}

/** The inside of an HCL quoted string: HCL's escapes (\n \r \t \" \\ \uNNNN) and its template escapes $${ and %%{. */
export function hclInner(value: string): string {
  let out = "";
  for (const ch of wellFormed(value)) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (UNSAFE_CHAR.test(ch)) out += `\\u${hex(code, 4)}`;
    else out += ch;
  }
  return out.replace(/\$\{/g, () => "$${").replace(/%\{/g, () => "%%{");
}

/** An HCL string literal that evaluates to exactly `value`. */
export function hclString(value: string): string {
  return `"${hclInner(value)}"`;
}

/**
 * A Terraform identifier (resource label, provider alias) from any text: lowercase letters, digits and _, starting with
 * a letter or _. Text with other characters than [A-Za-z0-9_.-] also gets a hash of itself, so two values never share a label.
 */
export function hclLabel(text: string): string {
  const base = text.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const label = /^[a-z_]/.test(base) ? base : `_${base}`;
  if (/^[A-Za-z0-9_.-]*$/.test(text)) return label;
  return `${label.slice(0, 40)}_${createHash("sha256").update(text).digest("hex").slice(0, 8)}`;
}
