// The at-rest encryption keys, decoded once from configuration.
import "server-only";
import type { KeyRing } from "@/lib/crypto";
import { env } from "@/lib/env";

let keys: KeyRing | undefined;

/** AES-256 keys for token caches and secrets at rest: seals with ENCRYPTION_KEY, also opens with ENCRYPTION_KEY_PREVIOUS. */
export function encryptionKey(): KeyRing {
  if (!keys) {
    const e = env();
    keys = {
      current: Buffer.from(e.ENCRYPTION_KEY, "base64"),
      previous: e.ENCRYPTION_KEY_PREVIOUS === undefined ? undefined : Buffer.from(e.ENCRYPTION_KEY_PREVIOUS, "base64"),
    };
  }
  return keys;
}
