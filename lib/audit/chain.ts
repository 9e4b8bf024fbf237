// Verifies a hash-chained audit trail. Pure: shared by tests, the exports' check command and the CLI.
import "server-only";
import type { AuditEvent } from "@/lib/db/audit";
import { auditEventHash, GENESIS_HASH } from "@/lib/db/audit-hash";

/** What verifyChain needs of an event: its hashed fields plus prevHash and hash. */
export type ChainEvent = Pick<
  AuditEvent,
  "id" | "at" | "tenantId" | "runId" | "actorUpn" | "action" | "target" | "outcome" | "detail" | "prevHash" | "hash"
>;

/** Result of verifyChain; `brokenAt` is the index of the first bad event in the given list. */
export type ChainVerdict =
  | { ok: true; count: number; firstHash: string | null; lastHash: string | null }
  | { ok: false; brokenAt: number; id: string; reason: string };

/**
 * verifyChain one event at a time, holding only the previous event: for exports and files of any size. add() returns
 * false from the first bad event on (later events are not checked); verdict() is the result so far.
 */
export class ChainVerifier {
  private previous: ChainEvent | null = null;
  private index = 0;
  private chained = 0;
  private firstHash: string | null = null;
  private broken: Extract<ChainVerdict, { ok: false }> | null = null;

  constructor(private readonly options: { partial?: boolean } = {}) {}

  /** Checks the next event in chain order; false when it (or an earlier one) broke the chain. */
  add(event: ChainEvent): boolean {
    if (this.broken) return false;
    const reason = this.check(event);
    if (reason) {
      this.broken = { ok: false, brokenAt: this.index, id: event.id, reason };
      return false;
    }
    this.index += 1;
    if (event.hash !== null) {
      this.firstHash ??= event.hash;
      this.previous = event;
      this.chained += 1;
    }
    return true;
  }

  /** The verdict over the events added so far. */
  verdict(): ChainVerdict {
    return this.broken ?? { ok: true, count: this.chained, firstHash: this.firstHash, lastHash: this.previous?.hash ?? null };
  }

  private check(event: ChainEvent): string | null {
    const previous = this.previous;
    if (event.hash === null || event.prevHash === null) {
      return previous ? "event has no hash after the chain started (hash removed)" : null;
    }
    if (previous && !(BigInt(event.id) > BigInt(previous.id))) return "event is out of order (id not increasing)";
    if (auditEventHash({ ...event, prevHash: event.prevHash }) !== event.hash)
      return "event content doesn't match its hash (a field was altered)";
    if (!this.options.partial && event.prevHash !== (previous ? previous.hash : GENESIS_HASH)) {
      return previous
        ? "link broken: prevHash isn't the previous event's hash (event deleted, inserted or reordered)"
        : "chain doesn't start at the genesis hash (earlier events missing)";
    }
    return null;
  }
}

/**
 * Checks every event's hash and the links between consecutive events. `partial` is for a subset of a tenant's chain
 * (one run's events): a link that doesn't match is a gap, not a break, and the first event needn't start the chain.
 * Events recorded before the chain existed (no hash) are accepted only before the first chained event.
 */
export function verifyChain(events: readonly ChainEvent[], options: { partial?: boolean } = {}): ChainVerdict {
  const verifier = new ChainVerifier(options);
  for (const event of events) if (!verifier.add(event)) break;
  return verifier.verdict();
}
