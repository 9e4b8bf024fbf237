// The portal's one logger (pino): JSON lines on stdout, readable lines in development, correlation fields from the job.
import "server-only";
import { AsyncLocalStorage } from "node:async_hooks";
import pino, { type DestinationStream, type Logger } from "pino";
import pretty from "pino-pretty";
import { logSettings } from "@/lib/env";

/** Correlation fields every line logged under withLogContext carries. */
export interface LogContext {
  runId?: string;
  stepId?: string;
  tenantId?: string;
}

/** pino's logger type, for callers that keep a child. */
export type { Logger };

interface LogState {
  root: Logger | undefined;
  destination: DestinationStream | undefined;
  context: AsyncLocalStorage<LogContext>;
}

// Next may load this module more than once (dev reloads, one bundle per route): one logger and one context per process.
const STATE_KEY = Symbol.for("aks-portal.log");
const globals = globalThis as typeof globalThis & { [STATE_KEY]?: LogState };
const state: LogState = (globals[STATE_KEY] ??= { root: undefined, destination: undefined, context: new AsyncLocalStorage() });

// Field names whose values never reach the log, at any depth: the second safety net, the first being never to pass them.
const SENSITIVE_KEY =
  /token|secret|password|passwd|authorization|api[-_]?key|private[-_]?key|encryption[-_]?key|cookie|credential|assertion|verifier|^key$/i;
// A JWT, or a Bearer credential, inside a message or a value under an innocent name.
const SENSITIVE_TEXT = /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*|\bBearer\s+[\w.~+/=-]{8,}/g;
const REDACTED = "[redacted]";
const MAX_DEPTH = 8;

/** A copy of `value` with sensitive fields replaced and token-like text masked. */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return value.replace(SENSITIVE_TEXT, REDACTED);
  if (value === null || typeof value !== "object") return value;
  // Deeper than any event the portal logs: dropped rather than passed on unchecked.
  if (depth >= MAX_DEPTH) return "[truncated]";
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  if (value instanceof Error) return scrub({ type: value.name, message: value.message }, depth);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[k] = SENSITIVE_KEY.test(k) && v !== undefined && v !== null ? REDACTED : scrub(v, depth + 1);
  return out;
}

function build(): Logger {
  const { level, pretty: readable } = logSettings();
  // A synchronous stream, not a worker transport: Next's server bundle cannot start pino's transport workers.
  const destination =
    state.destination ??
    (readable
      ? pretty({ sync: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" })
      : pino.destination({ dest: 1, sync: true }));
  return pino(
    {
      level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => scrub(object) as Record<string, unknown>,
      },
      hooks: {
        // The message text is scrubbed like the fields: an error message may quote what it was given.
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === "string" ? a.replace(SENSITIVE_TEXT, REDACTED) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    destination,
  );
}

/** The process's root logger. */
export function rootLogger(): Logger {
  state.root ??= build();
  return state.root;
}

/** The logger for here: the root with the surrounding withLogContext's correlation fields. */
export function log(): Logger {
  const fields = state.context.getStore();
  return fields ? rootLogger().child(fields) : rootLogger();
}

/** Runs `fn` so that every line logged under it, however deep, carries `fields` (added to the surrounding ones). */
export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as LogContext;
  return state.context.run({ ...state.context.getStore(), ...defined }, fn);
}

/** The correlation fields in effect here. */
export function logContext(): LogContext {
  return { ...state.context.getStore() };
}

/** Test seam: send every line to `destination` (undefined: back to stdout); the logger is rebuilt with the current level. */
export function setLogDestination(destination: DestinationStream | undefined): void {
  state.destination = destination;
  state.root = undefined;
}

/** A message safe to log from anything thrown: its name and message, never its request or response. */
export function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : "unknown error";
}
