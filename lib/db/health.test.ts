// The readiness facts on a real (PGlite) database: it answers, and a migration missing from its history is named.
import { describe, expect, it } from "vitest";
import { setupEngineDb } from "@/test/support/engine";
import { db } from "./client";
import { pendingMigrations, pingDatabase } from "./health";
import { readMigrations } from "./migrations";

setupEngineDb("db-health");

describe("database readiness", () => {
  it("answers a ping and reports no pending migration once migrated", async () => {
    await expect(pingDatabase()).resolves.toBeUndefined();
    expect(await pendingMigrations()).toEqual([]);
  });

  it("names a committed migration its history lacks, and one rolled back", async () => {
    const names = (await readMigrations()).migrationDirectories.map((d) => d.path);
    const [first, last] = [names[0] ?? "", names.at(-1) ?? ""];
    expect(names.length).toBeGreaterThan(1);
    const prisma = await db();
    await prisma.$executeRaw`DELETE FROM _prisma_migrations WHERE migration_name = ${last}`;
    await prisma.$executeRaw`UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = ${first}`;
    expect(await pendingMigrations()).toEqual([first, last]);
  });
});
