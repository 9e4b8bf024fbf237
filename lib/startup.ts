// Server start: refuse to run with bad configuration, then bring the database schema up to date.
import { migrate } from "@/lib/db/client";
import { env } from "@/lib/env";

/** Called once from instrumentation.ts when the Node.js server boots. */
export async function startup(): Promise<void> {
  try {
    env();
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
  const { applied } = await migrate();
  if (applied.length > 0) console.info(`[db] applied migrations: ${applied.join(", ")}`);
}
