// Audit trail exports, streamed: JSON Lines (a header line, one event per line, an end line with the count, the end
// hashes and the chain check made while streaming) and CSV (RFC 4180, formula-injection safe). Parsing and checking a
// JSON Lines export one line at a time, for files of any size.
import "server-only";
import { errorText, log } from "@/lib/log";
import type { AuditEvent, JsonValue } from "@/lib/db/audit";
import { ChainVerifier, type ChainEvent } from "./chain";

/** Format version written in the header; from 2 on, the count and end hashes are in the end line, not the header. */
export const EXPORT_VERSION = 2;

/** The command that verifies an export file. */
export const CHECK_COMMAND = "npm run audit:verify -- <file>.jsonl";

/** First line of a JSON Lines export: what it covers and how to check it. */
export interface AuditExportHeader {
  auditExport: {
    version: number;
    scope: "tenant" | "run";
    tenantId: string;
    runId: string | null;
    exportedAt: string;
    check: string;
    note: string;
  };
}

/** Last line of a JSON Lines export, known only after the last event: what was written and the server's check of it. */
export interface AuditExportEnd {
  auditExportEnd: {
    /** false when the server stopped early (the file lacks the events after the last one written). */
    complete: boolean;
    count: number;
    firstHash: string | null;
    lastHash: string | null;
    /** The server's check of the events written, while writing them; `npm run audit:verify` repeats it. */
    chain: "intact" | "broken";
    broken?: { event: number; id: string; reason: string };
    error?: string;
  };
}

/** What an export says about itself: its header, with count and end hashes from its end line (before version 2: the header). */
export type AuditExportInfo = Omit<AuditExportHeader["auditExport"], "version" | "note"> & {
  version?: number;
  count?: number;
  firstHash?: string | null;
  lastHash?: string | null;
};

const HEADER_NOTE =
  "The last line (auditExportEnd) holds the count, the first and last hash and the server's check; a file without it is incomplete.";

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

/** One CSV cell: formula-leading characters neutralised with a quote, then RFC 4180 quoting when needed. */
export function csvCell(value: string | null): string {
  if (value === null) return "";
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function csvRow(event: AuditEvent): string {
  const r = record(event);
  return `${CSV_COLUMNS.map((c) => csvCell(c === "detail" ? (r.detail === null ? null : JSON.stringify(r.detail)) : r[c])).join(",")}\r\n`;
}

/** What auditExportStream writes: a tenant's or a run's events, as chunks in chain order (lib/db readAuditChain). */
export interface AuditExportSource {
  format: "jsonl" | "csv";
  scope: "tenant" | "run";
  tenantId: string;
  runId: string | null;
  chunks: AsyncIterable<readonly AuditEvent[]>;
}

/**
 * The export as a byte stream that reads the next chunk only when the previous one was taken (bounded memory). JSON
 * Lines ends with an end line written after the events, so nothing claims more than the file holds. If reading fails
 * midway, JSON Lines gets an end line saying it is incomplete, and both formats then error the stream, so the HTTP
 * response is aborted rather than ending as if complete.
 */
export function auditExportStream(source: AuditExportSource): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const iterator = source.chunks[Symbol.asyncIterator]();
  const verifier = new ChainVerifier({ partial: source.scope === "run" });
  let count = 0;
  let firstHash: string | null = null;
  let lastHash: string | null = null;
  let started = false;
  let failure: unknown = null;

  const endLine = (error?: string): string => {
    const verdict = verifier.verdict();
    const end: AuditExportEnd = {
      auditExportEnd: {
        complete: error === undefined,
        count,
        firstHash,
        lastHash,
        chain: verdict.ok ? "intact" : "broken",
        ...(verdict.ok ? {} : { broken: { event: verdict.brokenAt + 1, id: verdict.id, reason: verdict.reason } }),
        ...(error === undefined ? {} : { error }),
      },
    };
    return `${JSON.stringify(end)}\n`;
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (failure !== null) {
        controller.error(failure);
        return;
      }
      if (!started) {
        started = true;
        const header: AuditExportHeader = {
          auditExport: {
            version: EXPORT_VERSION,
            scope: source.scope,
            tenantId: source.tenantId,
            runId: source.runId,
            exportedAt: new Date().toISOString(),
            check: CHECK_COMMAND,
            note: HEADER_NOTE,
          },
        };
        controller.enqueue(encoder.encode(source.format === "csv" ? `${CSV_COLUMNS.join(",")}\r\n` : `${JSON.stringify(header)}\n`));
        return;
      }
      let next: IteratorResult<readonly AuditEvent[]>;
      try {
        next = await iterator.next();
      } catch (error) {
        log().error(
          { event: "audit.export_stopped", tenantId: source.tenantId, events: count, error: errorText(error) },
          `audit export stopped after ${count} events`,
        );
        if (source.format === "csv") {
          controller.error(error);
          return;
        }
        failure = error;
        controller.enqueue(
          encoder.encode(endLine(`the export stopped after ${count} events (the database could not be read); download it again`)),
        );
        return;
      }
      if (next.done) {
        if (source.format === "jsonl") controller.enqueue(encoder.encode(endLine()));
        controller.close();
        return;
      }
      let text = "";
      for (const event of next.value) {
        verifier.add(event);
        count += 1;
        if (event.hash !== null) {
          firstHash ??= event.hash;
          lastHash = event.hash;
        }
        text += source.format === "csv" ? csvRow(event) : `${JSON.stringify(record(event))}\n`;
      }
      controller.enqueue(encoder.encode(text));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

/** One parsed line of a JSON Lines export. */
export type ExportLine =
  | { kind: "header"; header: AuditExportInfo }
  | { kind: "event"; event: ChainEvent }
  | { kind: "end"; end: AuditExportEnd["auditExportEnd"] };

/** Parses one line of a JSON Lines export (null for a blank line); throws naming the line. */
export function parseExportLine(line: string, lineNumber: number): ExportLine | null {
  if (line.trim() === "") return null;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`line ${lineNumber}: not JSON`);
  }
  if (typeof value !== "object" || value === null) throw new Error(`line ${lineNumber}: not an object`);
  const o = value as Record<string, unknown>;
  if ("auditExport" in o) {
    const header = o.auditExport as Partial<AuditExportHeader["auditExport"]> & AuditExportInfo;
    if (typeof header !== "object" || header === null || (header.scope !== "tenant" && header.scope !== "run"))
      throw new Error(`line ${lineNumber}: not an export header`);
    const { note: _note, ...info } = header;
    return { kind: "header", header: info };
  }
  if ("auditExportEnd" in o) {
    const end = o.auditExportEnd as AuditExportEnd["auditExportEnd"];
    if (typeof end !== "object" || end === null || typeof end.count !== "number" || typeof end.complete !== "boolean")
      throw new Error(`line ${lineNumber}: not an export end line`);
    return { kind: "end", end };
  }
  const str = (k: string) => (typeof o[k] === "string" ? (o[k] as string) : null);
  const id = str("id");
  const at = str("at");
  const tenantId = str("tenantId");
  const actorUpn = str("actorUpn");
  const action = str("action");
  const outcome = str("outcome");
  if (!id || !at || !tenantId || actorUpn === null || !action || (outcome !== "success" && outcome !== "failure" && outcome !== "denied")) {
    throw new Error(`line ${lineNumber}: not an audit event`);
  }
  return {
    kind: "event",
    event: {
      id,
      at: new Date(at),
      tenantId,
      runId: str("runId"),
      actorUpn,
      action,
      target: str("target"),
      outcome,
      detail: (o.detail ?? null) as JsonValue | null,
      prevHash: str("prevHash"),
      hash: str("hash"),
    },
  };
}

/** Parses a whole JSON Lines export held in memory (tests, small files); throws naming the bad line. */
export function parseJsonLines(text: string): {
  header: AuditExportInfo | null;
  end: AuditExportEnd["auditExportEnd"] | null;
  events: ChainEvent[];
} {
  let header: AuditExportInfo | null = null;
  let end: AuditExportEnd["auditExportEnd"] | null = null;
  const events: ChainEvent[] = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    const parsed = parseExportLine(line, index + 1);
    if (parsed?.kind === "header") header = parsed.header;
    else if (parsed?.kind === "end") end = parsed.end;
    else if (parsed?.kind === "event") events.push(parsed.event);
  }
  if (header && end) header = { ...header, count: end.count, firstHash: end.firstHash, lastHash: end.lastHash };
  return { header, end, events };
}

/** Result of checkExportLines: what the file holds, or the first reason not to trust it. */
export type ExportCheck =
  { ok: true; count: number; firstHash: string | null; lastHash: string | null; partial: boolean } | { ok: false; message: string };

/**
 * Checks a JSON Lines export read line by line (memory: one line and the previous event): the chain (links only for a
 * tenant export), and that the file ends with a complete end line whose count and end hashes match the events. A file
 * without an end line was cut off. Exports before version 2 carry the count and hashes in the header instead.
 */
export async function checkExportLines(
  lines: AsyncIterable<string> | Iterable<string>,
  options: { partial?: boolean } = {},
): Promise<ExportCheck> {
  let header: AuditExportInfo | null = null;
  let end: AuditExportEnd["auditExportEnd"] | null = null;
  let verifier: ChainVerifier | null = null;
  let partial = options.partial ?? false;
  let count = 0;
  let firstHash: string | null = null;
  let lastHash: string | null = null;
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber += 1;
    let parsed: ExportLine | null;
    try {
      parsed = parseExportLine(line, lineNumber);
    } catch (error) {
      return { ok: false, message: `BROKEN: ${(error as Error).message}` };
    }
    if (parsed === null) continue;
    if (end) return { ok: false, message: `BROKEN: line ${lineNumber} follows the export's end line` };
    if (parsed.kind === "header") {
      if (header || verifier) return { ok: false, message: `BROKEN: line ${lineNumber}: a second header, or a header after events` };
      header = parsed.header;
      // A run export is a subset of the tenant's chain: each event's hash is checked, gaps between them are allowed.
      partial ||= header.scope === "run";
      continue;
    }
    if (parsed.kind === "end") {
      end = parsed.end;
      continue;
    }
    verifier ??= new ChainVerifier({ partial });
    const event = parsed.event;
    if (!verifier.add(event)) {
      const verdict = verifier.verdict();
      if (!verdict.ok) return { ok: false, message: `BROKEN at event #${verdict.brokenAt + 1} (id ${verdict.id}): ${verdict.reason}` };
    }
    count += 1;
    if (event.hash !== null) {
      firstHash ??= event.hash;
      lastHash = event.hash;
    }
  }

  const claimed =
    end ?? (header && (header.version ?? 1) < EXPORT_VERSION && header.count !== undefined ? { ...header, count: header.count } : null);
  if (header && !claimed) {
    return { ok: false, message: `INCOMPLETE: no end line after ${count} events: the file was cut off (download it again)` };
  }
  if (end && !end.complete) {
    return { ok: false, message: `INCOMPLETE: the export stopped early after ${end.count} events: ${end.error ?? "no reason given"}` };
  }
  if (claimed && claimed.count !== count) {
    return { ok: false, message: `BROKEN: the export says ${claimed.count} events, the file has ${count}` };
  }
  if (claimed && ((claimed.firstHash ?? null) !== firstHash || (claimed.lastHash ?? null) !== lastHash)) {
    return { ok: false, message: "BROKEN: first or last hash differs from the export's own (events added or removed at an end)" };
  }
  const verdict = (verifier ?? new ChainVerifier()).verdict();
  return { ok: true, count: verdict.ok ? verdict.count : count, firstHash, lastHash, partial };
}
