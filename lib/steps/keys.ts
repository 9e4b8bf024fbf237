// Operation-log keys are "<step>.<kind>:<value>": the step files build and parse their own with these two helpers.
import "server-only";

/** A key's head ("storage.account", "role-assignments.<guid>") and value (after the first colon); null without a colon. */
export function splitKey(key: string): { head: string; value: string } | null {
  const i = key.indexOf(":");
  return i < 0 ? null : { head: key.slice(0, i), value: key.slice(i + 1) };
}
