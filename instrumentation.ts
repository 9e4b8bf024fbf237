// Next.js boot hook: configuration check and migrations before the first request.
import { isBuildPhase, nextRuntime } from "@/lib/env";

export async function register() {
  if (nextRuntime() !== "nodejs" || isBuildPhase()) return;
  const { startup } = await import("@/lib/startup");
  await startup();
}
