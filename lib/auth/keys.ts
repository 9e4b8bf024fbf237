// The at-rest encryption key, decoded once from configuration.
import { env } from "@/lib/env";

let key: Buffer | undefined;

/** AES-256 key for token caches and secrets at rest. */
export function encryptionKey(): Buffer {
  key ??= Buffer.from(env().ENCRYPTION_KEY, "base64");
  return key;
}
