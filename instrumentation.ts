// Next.js boot hook: configuration check and migrations before the first request.
export async function register() {
  // NEXT_RUNTIME is a build-time constant Next inlines (not configuration): written literally so the edge bundle drops this branch.
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { isBuildPhase } = await import("@/lib/env");
  if (isBuildPhase()) return;
  const { startup } = await import("@/lib/startup");
  await startup();
}
