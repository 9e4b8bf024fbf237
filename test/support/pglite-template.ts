// Test-only: one migrated PGlite folder per set of migrations, copied by every test file instead of running initdb.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { createDb, type DbOptions } from "../../lib/db/client";

const MIGRATIONS = path.join("prisma", "migrations");

/** The template's folder: named by a hash of the committed migrations, so a new migration makes a new template. */
export function pgliteTemplateDir(): string {
  const hash = crypto.createHash("sha256");
  for (const entry of fs.readdirSync(MIGRATIONS, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const file = entry.isDirectory() ? path.join(MIGRATIONS, entry.name, "migration.sql") : path.join(MIGRATIONS, entry.name);
    if (fs.existsSync(file)) hash.update(entry.name).update(fs.readFileSync(file));
  }
  return path.resolve(".test-data", `pglite-template-${hash.digest("hex").slice(0, 16)}`);
}

/** Creates the template once (vitest globalSetup); a folder left half-made by a killed run is never used. */
export async function ensurePgliteTemplate(): Promise<string> {
  const dir = pgliteTemplateDir();
  if (fs.existsSync(path.join(dir, "pglite", "PG_VERSION"))) return dir;
  const building = `${dir}.building-${process.pid}`;
  fs.rmSync(building, { recursive: true, force: true });
  const database = await createDb({ dataDir: building });
  await database.migrate();
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(building, dir);
  return dir;
}

/** DbOptions for a fresh PGlite database in `dataDir`, copied from the template when it exists. */
export function testDbOptions(dataDir: string): DbOptions {
  return { dataDir, template: pgliteTemplateDir() };
}
