// Well-known Entra application ids (first-party apps, identical in every tenant).
import "server-only";
export const WELL_KNOWN_APP_IDS = {
  /** "Log Analytics API": owns the Data.Read app role the vendor's app needs. */
  logAnalyticsApi: "ca7f3f0b-7d91-482c-8e09-c5d840d0eac5",
} as const;

/** The Log Analytics API app role the vendor's app is granted (resolved to an id at runtime, never hard-coded). */
export const LOG_ANALYTICS_DATA_READ = "Data.Read";
