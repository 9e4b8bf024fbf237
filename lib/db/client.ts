// Opens the portal database: embedded PGlite in DATA_DIR/pglite, or PostgreSQL when DATABASE_URL is set.
import "server-only";
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { setFlagsFromString } from "node:v8";
import type { SqlMigrationAwareDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import { env } from "../env";
import { PrismaClient } from "./generated/client";
import { applyMigrations } from "./migrations";

/** Where the database lives. */
export interface DbOptions {
  /** postgres://… for PostgreSQL; absent for embedded PGlite. */
  databaseUrl?: string;
  /** PGlite keeps its files in `${dataDir}/pglite`. */
  dataDir: string;
  /** Defaults to prisma/migrations under the working directory. */
  migrationsDir?: string;
  /** A migrated PGlite folder (its `pglite` subfolder) copied into a new dataDir instead of running initdb (tests). */
  template?: string;
}

/** An open database: the Prisma client plus what is needed to migrate and close it. */
export interface Database {
  kind: "pglite" | "postgres";
  prisma: PrismaClient;
  /** Applies pending migrations; returns the names applied by this call. */
  migrate(): Promise<{ applied: string[] }>;
  close(): Promise<void>;
}

/** Opens a database without migrating it. Used by db(), scripts and tests; the app should use db(). */
export async function createDb(options: DbOptions): Promise<Database> {
  if (options.databaseUrl) {
    const { PrismaPg } = await import("@prisma/adapter-pg");
    const factory = new PrismaPg({ connectionString: options.databaseUrl });
    const prisma = new PrismaClient({ adapter: factory });
    return {
      kind: "postgres",
      prisma,
      migrate: async () => ({ applied: await applyMigrations(factory, options.migrationsDir) }),
      close: () => prisma.$disconnect(),
    };
  }

  // Before PGlite's WebAssembly is compiled: V8's flags are read at compile time.
  setFlagsFromString(WASM_BASELINE_ONLY);
  // Loaded lazily so a PostgreSQL deployment never loads the PGlite WASM.
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([import("@electric-sql/pglite"), import("pglite-prisma-adapter")]);
  const dir = path.resolve(options.dataDir, "pglite");
  await fs.mkdir(dir, { recursive: true });
  await createPgliteDataDir(dir, options.template);
  // One PGlite instance per data folder and process: PGlite is single-user, so Prisma and the
  // migration engine share this instance (a second open of the same folder corrupts it).
  const pglite = await PGlite.create(dir, {
    startParams: [...PGlite.defaultStartParams, ...PGLITE_SETTINGS.flatMap((setting) => ["-c", setting])],
  });
  // pglite-prisma-adapter pins an older @prisma/driver-adapter-utils; the factory interface is the same.
  const factory = new PrismaPGlite(pglite) as unknown as SqlMigrationAwareDriverAdapterFactory;
  const prisma = new PrismaClient({ adapter: factory });
  return {
    kind: "pglite",
    prisma,
    migrate: async () => ({ applied: await applyMigrations(factory, options.migrationsDir) }),
    close: async () => {
      await prisma.$disconnect();
      if (!pglite.closed) await pglite.close();
    },
  };
}

/**
 * Server settings PGlite starts with, beside its defaults (startParams replaces PGlite.defaultStartParams, so both are
 * passed; electric-sql/pglite packages/pglite/src/pglite.ts). PostgreSQL's 128 MB of shared buffers sit in PGlite's
 * WebAssembly heap and are all resident from the start (~120 MB of RSS); the portal's data is a few MB, and PGlite reads
 * its files through Node's fs, so pages outside the buffers come from the OS page cache.
 */
const PGLITE_SETTINGS = ["shared_buffers=16MB"];

/**
 * V8 compiles WebAssembly with its baseline compiler (Liftoff) and recompiles hot functions with its optimizing one in
 * background threads. For PGlite's 9 MB module that tier-up keeps both codes and the compilers' freed arenas resident:
 * ~70 MB of RSS in the first thousand queries, and the portal's short statements are no faster for it (4 500 inserts
 * and selects on 2 cores: 222–238 MB peak and 6.3–8.2 s with tier-up, 154–165 MB and 5.1–5.9 s without). The flags are
 * process-wide, so Prisma's WebAssembly compiled after them stays on Liftoff too; a function Liftoff can't compile still
 * gets TurboFan (unlike --liftoff-only, a testing flag).
 */
const WASM_BASELINE_ONLY = "--no-wasm-dynamic-tiering --no-wasm-tier-up";

const INITDB_IN_CHILD = `import { PGlite } from "@electric-sql/pglite";
const db = await PGlite.create(process.argv[1]);
await db.close();`;

/**
 * Creates a fresh PGlite data folder in a short-lived child process. PGlite's initdb grows its WebAssembly memory to
 * ~900 MB, and a process never gives WebAssembly memory back; opening the finished folder takes ~300 MB. If the child
 * can't run (no resolvable package), the folder is created in this process instead, as before.
 */
async function createPgliteDataDir(dir: string, template: string | undefined): Promise<void> {
  const hasData = (folder: string) =>
    fs.access(path.join(folder, "PG_VERSION")).then(
      () => true,
      () => false,
    );
  if (await hasData(dir)) return;
  // A cleanly closed data folder is a plain PostgreSQL PGDATA: a copy opens as a new database in ~1 s instead of ~7 s.
  const source = template ? path.resolve(template, "pglite") : undefined;
  if (source && (await hasData(source))) {
    await fs.cp(source, dir, { recursive: true });
    return;
  }
  try {
    await promisify(execFile)(process.execPath, ["--input-type=module", "-e", INITDB_IN_CHILD, dir], { timeout: 120_000 });
  } catch {
    // PGlite.create below runs initdb itself.
  }
}

interface DbState {
  options?: DbOptions;
  open?: Promise<Database>;
  migrated?: Promise<{ applied: string[] }>;
  /** Set by a graceful shutdown: nothing opens the database again in this process. */
  shutDown?: boolean;
}

// On globalThis so Next dev's module reloads keep one connection (and one PGlite instance).
const stateKey = Symbol.for("portal.db");
function state(): DbState {
  const g = globalThis as { [stateKey]?: DbState };
  return (g[stateKey] ??= {});
}

function open(): Promise<Database> {
  const s = state();
  if (s.shutDown) return Promise.reject(new Error("The portal's database is closed: the server is shutting down"));
  s.open ??= createDb(s.options ?? { databaseUrl: env().DATABASE_URL, dataDir: env().DATA_DIR }).catch((error: unknown) => {
    s.open = undefined;
    throw error;
  });
  return s.open;
}

/** Points db() at another database (tests, scripts) instead of env(); call before first use or after closeDb(). */
export function configureDb(options: DbOptions): void {
  const s = state();
  if (s.open) throw new Error("configureDb() after the database was opened: call closeDb() first");
  s.options = options;
}

/**
 * Applies pending migrations once per process (server start: Next's instrumentation hook).
 * Later calls return the first call's result.
 */
export function migrate(): Promise<{ applied: string[] }> {
  const s = state();
  s.migrated ??= open()
    .then((database) => database.migrate())
    .catch((error: unknown) => {
      s.migrated = undefined;
      throw error;
    });
  return s.migrated;
}

/** The shared Prisma client, migrated before first use. Only lib/db modules should call this. */
export async function db(): Promise<PrismaClient> {
  await migrate();
  return (await open()).prisma;
}

/** The shared Prisma client as opened, migrations or not (readiness checks must not migrate). Only lib/db modules should call this. */
export async function connection(): Promise<PrismaClient> {
  return (await open()).prisma;
}

/** Closes the shared database for good (graceful shutdown): later calls fail instead of opening it again. */
export async function shutDownDb(): Promise<void> {
  state().shutDown = true;
  await closeDb();
}

/** Closes the shared database (tests, scripts). */
export async function closeDb(): Promise<void> {
  const s = state();
  const opening = s.open;
  s.open = undefined;
  s.migrated = undefined;
  if (opening) await (await opening.catch(() => undefined))?.close();
}
