import { describe, expect, it } from "vitest";
import { expiryStatus, expiryText } from "./expiry";

const NOW = new Date("2026-11-27T08:00:00.000Z");
const inDays = (days: number) => new Date(NOW.getTime() + days * 86_400_000);

describe("expiryStatus", () => {
  it("does not warn with 31 days left", () => {
    expect(expiryStatus(inDays(31), NOW)).toEqual({ level: "ok", daysLeft: 31 });
  });

  it("warns from exactly 30 days left, down to the last minute", () => {
    expect(expiryStatus(inDays(30), NOW)).toEqual({ level: "warning", daysLeft: 30 });
    expect(expiryStatus(new Date(inDays(30).getTime() + 1), NOW).level).toBe("ok");
    expect(expiryStatus(inDays(1), NOW)).toEqual({ level: "warning", daysLeft: 1 });
    expect(expiryStatus(new Date(NOW.getTime() + 60_000), NOW)).toEqual({ level: "warning", daysLeft: 0 });
  });

  it("is expired at and after the end date", () => {
    expect(expiryStatus(NOW, NOW).level).toBe("expired");
    expect(expiryStatus(inDays(-3), NOW)).toEqual({ level: "expired", daysLeft: -3 });
  });

  it("is unknown without a valid end date", () => {
    expect(expiryStatus(null, NOW)).toEqual({ level: "unknown", daysLeft: null });
    expect(expiryStatus(new Date("not a date"), NOW).level).toBe("unknown");
  });
});

describe("expiryText", () => {
  it("reads as days left or days ago", () => {
    expect(expiryText(expiryStatus(inDays(31), NOW))).toBe("expires in 31 days");
    expect(expiryText(expiryStatus(new Date(inDays(1).getTime() + 1000), NOW))).toBe("expires in 1 day");
    expect(expiryText(expiryStatus(new Date(NOW.getTime() + 60_000), NOW))).toBe("expires within a day");
    expect(expiryText(expiryStatus(new Date(NOW.getTime() - 60_000), NOW))).toBe("expired today");
    expect(expiryText(expiryStatus(inDays(-3), NOW))).toBe("expired 3 days ago");
    expect(expiryText(expiryStatus(new Date(inDays(-1).getTime() - 1000), NOW))).toBe("expired 1 day ago");
    expect(expiryText(expiryStatus(null, NOW))).toBe("expiry unknown");
  });
});
