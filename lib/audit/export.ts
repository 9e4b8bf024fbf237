// Audit trail exports: JSON Lines (one header line, then one event per line) and CSV (RFC 4180, formula-injection safe).
import type { AuditEvent, JsonValue } from "@/lib/db/audit";
import type { ChainEvent } from "./chain";

/** First line of a JSON Lines export: what it covers and how to check it. */
export interface AuditExportHeader {
  auditExport: {
    scope: "tenant" | "run";
    tenantId: string;
    runId: string | null;
    count: number;
    firstHash: string | null;
    lastHash: string | null;
    exportedAt: string;
    check: string;
  };
}

/** The command that verifies an export file. */
export const CHECK_COMMAND = "npm run audit:verify -- <file>.jsonl";

const CSV_COLUMNS = ["id", "at", "tenantId", "runId", "actorUpn", "action", "target", "outcome", "detail", "prevHash", "hash"] as const;

function record(event: AuditEvent) {
  return {
    id: event.id,
    at: event.at.toISOString(),
    tenantId: event.tenantId,
    runId: event.runId,
    actorUpn: event.actorUpn,
    action: event.action,
    target: event.target,
    outcome: event.outcome,
    detail: event.detail,
    prevHash: event.prevHash,
    hash: event.hash,
  };
}

/** One JSON object per line (after an optional header line), each line ending in "\n". */
export function toJsonLines(events: readonly AuditEvent[], header?: AuditExportHeader): string {
  const lines = events.map((e) => JSON.stringify(record(e)));
  if (header) lines.unshift(JSON.stringify(header));
  return lines.map((l) => `${l}\n`).join("");
}

/** Parses a JSON Lines export back into events (and its header, if any); throws naming the bad line. */
export function parseJsonLines(text: string): { header: AuditExportHeader["auditExport"] | null; events: ChainEvent[] } {
  let header: AuditExportHeader["auditExport"] | null = null;
  const events: ChainEvent[] = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`line ${index + 1}: not JSON`);
    }
    if (typeof value !== "object" || value === null) throw new Error(`line ${index + 1}: not an object`);
    const o = value as Record<string, unknown>;
    if ("auditExport" in o) {
      header = o.auditExport as AuditExportHeader["auditExport"];
      continue;
    }
    const str = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : null);
    const id = str("id");
    const at = str("at");
    const outcome = str("outcome");
    if (!id || !at || !str("tenantId") || str("actorUpn") === null || !str("action") || (outcome !== "success" && outcome !== "failure" && outcome !== "denied")) {
      throw new Error(`line ${index + 1}: not an audit event`);
    }
    events.push({
      id,
      at: new Date(at),
      tenantId: str("tenantId")!,
      runId: str("runId"),
      actorUpn: str("actorUpn")!,
      action: str("action")!,
      target: str("target"),
      outcome,
      detail: (o.detail ?? null) as JsonValue | null,
      prevHash: str("prevHash"),
      hash: str("hash"),
    });
  }
  return { header, events };
}

/** One CSV cell: formula-leading characters neutralised with a quote, then RFC 4180 quoting when needed. */
export function csvCell(value: string | null): string {
  if (value === null) return "";
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** A header row and one row per event, CRLF line endings (RFC 4180); detail as compact JSON. */
export function toCsv(events: readonly AuditEvent[]): string {
  const rows = [CSV_COLUMNS.join(",")];
  for (const event of events) {
    const r = record(event);
    rows.push(CSV_COLUMNS.map((c) => csvCell(c === "detail" ? (r.detail === null ? null : JSON.stringify(r.detail)) : r[c])).join(","));
  }
  return rows.map((r) => `${r}\r\n`).join("");
}
