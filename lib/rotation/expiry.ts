// When a client secret needs attention: warn from 30 days before it expires, alarm once it has.
import "server-only";

/** Days before expiry from which the portal warns. */
export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 86_400_000;

/** ok: more than 30 days left; warning: 30 days or fewer; expired: past its end; unknown: no end date known. */
export type ExpiryLevel = "ok" | "warning" | "expired" | "unknown";

/** A secret's expiry as the UI shows it. */
export interface ExpiryStatus {
  level: ExpiryLevel;
  /** Whole days left, rounded towards zero (0 on the first and last day); negative once expired; null when unknown. */
  daysLeft: number | null;
}

/** The expiry level of a secret ending at `expiresAt`, seen at `now`. */
export function expiryStatus(expiresAt: Date | null, now: Date): ExpiryStatus {
  if (!expiresAt || Number.isNaN(expiresAt.getTime())) return { level: "unknown", daysLeft: null };
  const leftMs = expiresAt.getTime() - now.getTime();
  // Whole days towards zero: 2.5 days left reads "2 days", 2.5 days ago reads "2 days ago".
  if (leftMs <= 0) return { level: "expired", daysLeft: Math.ceil(leftMs / DAY_MS) || 0 };
  const daysLeft = Math.floor(leftMs / DAY_MS);
  if (leftMs <= EXPIRY_WARNING_DAYS * DAY_MS) return { level: "warning", daysLeft };
  return { level: "ok", daysLeft };
}

/** One line for people: "expires in 12 days", "expired 3 days ago". */
export function expiryText(status: ExpiryStatus): string {
  const d = status.daysLeft;
  if (status.level === "unknown" || d === null) return "expiry unknown";
  if (status.level === "expired") return d === 0 ? "expired today" : `expired ${-d} day${d === -1 ? "" : "s"} ago`;
  if (d === 0) return "expires within a day";
  return `expires in ${d} day${d === 1 ? "" : "s"}`;
}
