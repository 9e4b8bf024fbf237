// Test-only: capture every line the portal's logger writes, parsed.
import { setLogDestination } from "@/lib/log";

/** One parsed log line. */
export type LogLine = Record<string, unknown> & { level: string; msg: string; event?: string };

/** Sends the logger's output to an array until `stop()`; `text()` is the raw output, for secret scans. */
export function captureLog(): { lines: LogLine[]; text(): string; stop(): void } {
  const raw: string[] = [];
  const lines: LogLine[] = [];
  setLogDestination({
    write(chunk: string) {
      raw.push(chunk);
      for (const line of chunk.split("\n").filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
    },
  });
  return { lines, text: () => raw.join(""), stop: () => setLogDestination(undefined) };
}
