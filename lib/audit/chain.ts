// Verifies a hash-chained audit trail. Pure: shared by tests, the exports' check command and the CLI.
import type { AuditEvent } from "@/lib/db/audit";
import { auditEventHash, GENESIS_HASH } from "@/lib/db/audit-hash";

/** What verifyChain needs of an event: its hashed fields plus prevHash and hash. */
export type ChainEvent = Pick<AuditEvent, "id" | "at" | "tenantId" | "runId" | "actorUpn" | "action" | "target" | "outcome" | "detail" | "prevHash" | "hash">;

/** Result of verifyChain; `brokenAt` is the index of the first bad event in the given list. */
export type ChainVerdict =
  | { ok: true; count: number; firstHash: string | null; lastHash: string | null }
  | { ok: false; brokenAt: number; id: string; reason: string };

/**
 * Checks every event's hash and the links between consecutive events. `partial` is for a subset of a tenant's chain
 * (one run's events): a link that doesn't match is a gap, not a break, and the first event needn't start the chain.
 * Events recorded before the chain existed (no hash) are accepted only before the first chained event.
 */
export function verifyChain(events: readonly ChainEvent[], options: { partial?: boolean } = {}): ChainVerdict {
  let previous: ChainEvent | null = null;
  let chained = 0;
  let firstHash: string | null = null;
  for (const [index, event] of events.entries()) {
    const broken = (reason: string): ChainVerdict => ({ ok: false, brokenAt: index, id: event.id, reason });
    if (event.hash === null || event.prevHash === null) {
      if (previous) return broken("event has no hash after the chain started (hash removed)");
      continue;
    }
    if (previous && !(BigInt(event.id) > BigInt(previous.id))) return broken("event is out of order (id not increasing)");
    const expected = auditEventHash({ ...event, prevHash: event.prevHash });
    if (expected !== event.hash) return broken("event content doesn't match its hash (a field was altered)");
    if (!options.partial) {
      const wanted = previous ? previous.hash : GENESIS_HASH;
      if (event.prevHash !== wanted) {
        return broken(previous ? "link broken: prevHash isn't the previous event's hash (event deleted, inserted or reordered)" : "chain doesn't start at the genesis hash (earlier events missing)");
      }
    }
    firstHash ??= event.hash;
    previous = event;
    chained += 1;
  }
  return { ok: true, count: chained, firstHash, lastHash: previous?.hash ?? null };
}
