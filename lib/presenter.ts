// Presenter mode: what a screen-shared page may show of tenant, subscription, client and object ids. Pure, no Next.
import "server-only";

// No word boundaries: a GUID glued to other text ("sub-<guid>", "@<guid>") is masked too; over-masking is harmless.
const GUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const ELLIPSIS = "…";

function maskGuid(guid: string): string {
  return `${guid.slice(0, 4)}${ELLIPSIS}${guid.slice(-4)}`;
}

/** Every GUID in `text` cut to its first and last four characters; everything else unchanged. */
export function maskText(text: string): string {
  return text.replace(GUID, maskGuid);
}

/** An id for display: GUIDs (alone or as ARM id segments) cut to first and last four; any other id longer than 8 likewise. */
export function maskId(value: string): string {
  if (value.startsWith("/") || new RegExp(GUID.source, "i").test(value)) return maskText(value);
  return value.length > 8 ? `${value.slice(0, 4)}${ELLIPSIS}${value.slice(-4)}` : ELLIPSIS;
}

/** `?present=1` / `?present=0` as on / off; anything else is no instruction. */
export function parsePresentParam(value: string | null): boolean | null {
  if (value === "1") return true;
  if (value === "0") return false;
  return null;
}
