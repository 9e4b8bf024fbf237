// Identities of this server process and of each step execution, as lease owners.
import "server-only";
import crypto from "node:crypto";
import os from "node:os";

/** This process: host, pid and a random part, so a restarted process on the same pid is still someone else. */
export const INSTANCE_ID = `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString("hex")}`;

/** A lease owner unique to one execution: two executions in one process must not share a lease. */
export function newLeaseOwner(): string {
  return `${INSTANCE_ID}:${crypto.randomBytes(6).toString("hex")}`;
}
