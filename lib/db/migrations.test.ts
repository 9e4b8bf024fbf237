import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import { afterAll, describe, expect, it } from "vitest";
import { createDb } from "./client";
import { committedMigrations, expectMigrated } from "@/test/support/db/migration-checks";
import { diffMigrations, prismaDir } from "./migrations";

const root = path.join(".test-data", `db-migrations-${crypto.randomBytes(4).toString("hex")}`);
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await run();
  console.log(`[timing] ${label}: ${Math.round(performance.now() - start)} ms`);
  return result;
}

describe("migrations on PGlite", () => {
  it("migrates a new data folder once; a second run and a reopen apply nothing", async () => {
    const dataDir = path.join(root, "a");
    const first = await timed("PGlite first open + migrate", async () => {
      const database = await createDb({ dataDir });
      return { database, result: await database.migrate() };
    });
    expect(first.result.applied).toEqual(committedMigrations());
    expect(await first.database.migrate()).toEqual({ applied: [] });
    await expectMigrated(first.database);
    await first.database.close();

    const reopened = await timed("PGlite reopen", () => createDb({ dataDir }));
    const again = await timed("PGlite migrate (nothing pending)", () => reopened.migrate());
    expect(again).toEqual({ applied: [] });
    await timed("PGlite first query after reopen", () => reopened.prisma.user.count());
    await expectMigrated(reopened);
    await reopened.close();
  }, 300_000);

  it("works in another new data folder", async () => {
    const database = await createDb({ dataDir: path.join(root, "b") });
    expect((await database.migrate()).applied).toEqual(committedMigrations());
    await expectMigrated(database);
    await database.close();
  }, 300_000);

  it("has a migration for every schema change (schema.prisma and prisma/migrations agree)", async () => {
    const schema = fs.readFileSync(path.join(prismaDir(), "schema.prisma"), "utf8");
    const pglite = await PGlite.create();
    const factory = new PrismaPGlite(pglite) as unknown as Parameters<typeof diffMigrations>[0];
    const sql = await diffMigrations(factory, schema);
    await pglite.close();
    expect(sql, "run `npm run db:migration -- <name>` and commit the migration").toBeNull();
  }, 300_000);
});
