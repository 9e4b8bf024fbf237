// Shared checks for migration tests on PGlite and PostgreSQL. Test-only.
import fs from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import type { Database } from "@/lib/db/client";
import { prismaDir } from "@/lib/db/migrations";

/** Folder names of the committed migrations, in order. */
export function committedMigrations(): string[] {
  return fs
    .readdirSync(path.join(prismaDir(), "migrations"), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

/** Asserts that the portal's tables exist and every committed migration is recorded as finished. */
export async function expectMigrated(database: Database): Promise<void> {
  const tables = await database.prisma.$queryRaw<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`;
  expect(tables.map((t) => t.table_name)).toEqual(
    expect.arrayContaining([
      "_prisma_migrations",
      "audit_events",
      "auth_requests",
      "onboarding_runs",
      "operations",
      "run_secrets",
      "sessions",
      "step_runs",
      "tenants",
      "users",
    ]),
  );
  const history = await database.prisma.$queryRaw<{ migration_name: string }[]>`
    SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL ORDER BY migration_name`;
  expect(history.map((h) => h.migration_name)).toEqual(committedMigrations());
}
