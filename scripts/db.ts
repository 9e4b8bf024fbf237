// Database tasks without Prisma's native engines: `generate`, `migrate`, `migration <name>`.
// `migrate` on PGlite opens DATA_DIR/pglite: stop the portal first (one process per data folder).
// The server applies pending migrations itself at start, so `migrate` is mostly for PostgreSQL deployments.
import "./server-only-shim";
import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { diffMigrations, prismaDir, writeMigration } from "../lib/db/migrations";

const usage = "usage: tsx scripts/db.ts generate | migrate | migration <name>";

async function generate(): Promise<void> {
  // Every prisma CLI command first downloads the native schema engine (unreachable here) unless this
  // points at an existing file; `generate` itself never runs it. The node binary is a file that always exists.
  const result = spawnSync(process.execPath, [require.resolve("prisma/build/index.js"), "generate"], {
    stdio: "inherit",
    env: {
      ...process.env,
      PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
      CHECKPOINT_DISABLE: "1",
      PRISMA_HIDE_UPDATE_MESSAGE: "1",
    },
  });
  if (result.status !== 0) throw new Error(`prisma generate failed (exit ${result.status ?? result.signal})`);
}

async function migrate(): Promise<void> {
  // Imported here: `generate` (postinstall) runs before the generated client exists.
  const { createDb } = await import("../lib/db/client");
  const database = await createDb({
    databaseUrl: process.env.DATABASE_URL || undefined,
    dataDir: process.env.DATA_DIR || ".data",
  });
  try {
    const { applied } = await database.migrate();
    const where = database.kind === "pglite" ? `PGlite in ${path.join(process.env.DATA_DIR || ".data", "pglite")}` : "PostgreSQL";
    console.log(applied.length ? `Applied to ${where}:\n  ${applied.join("\n  ")}` : `${where} is up to date`);
  } finally {
    await database.close();
  }
}

async function migration(name: string | undefined): Promise<void> {
  if (!name) throw new Error(`migration needs a name\n${usage}`);
  const schema = await fs.readFile(path.join(prismaDir(), "schema.prisma"), "utf8");
  // The engine replays the committed migrations on a throwaway in-memory PGlite: no database needed.
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import("@electric-sql/pglite"), import("pglite-prisma-adapter")]);
  const pglite = await PGlite.create();
  try {
    const factory = new PrismaPGlite(pglite) as unknown as Parameters<typeof diffMigrations>[0];
    const sql = await diffMigrations(factory, schema);
    if (!sql) {
      console.log("No schema changes");
      return;
    }
    const folder = await writeMigration(sql, name);
    console.log(`Created prisma/migrations/${folder}/migration.sql\n\n${sql}`);
    await generate();
  } finally {
    await pglite.close();
  }
}

async function main(): Promise<void> {
  const [command, arg] = process.argv.slice(2);
  if (command === "generate") return generate();
  if (command === "migrate") return migrate();
  if (command === "migration") return migration(arg);
  throw new Error(usage);
}

main().then(
  // The engine's shadow PGlite stays open after diff; exit instead of waiting for it.
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
