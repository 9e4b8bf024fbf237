// Readiness facts about the portal database: it answers, and every committed migration is applied.
import "server-only";
import { connection } from "./client";
import { readMigrations } from "./migrations";

/** One round trip to the database. */
export async function pingDatabase(): Promise<void> {
  const prisma = await connection();
  await prisma.$queryRaw`SELECT 1`;
}

/** Committed migrations (prisma/migrations) not recorded as applied in `_prisma_migrations`. */
export async function pendingMigrations(): Promise<string[]> {
  const [prisma, committed] = await Promise.all([connection(), readMigrations()]);
  const rows = await prisma.$queryRaw<{ migration_name: string }[]>`
    SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
  const applied = new Set(rows.map((r) => r.migration_name));
  return committed.migrationDirectories.map((d) => d.path).filter((name) => !applied.has(name));
}
