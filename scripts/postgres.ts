// A throwaway PostgreSQL database for tests, on the machine's Debian PostgreSQL cluster (started and set up on demand).
//
// Access: role `portal_test` (CREATEDB) with a random password kept in .test-data/postgres-password, over TCP to
// 127.0.0.1, which Debian's default pg_hba.conf allows (scram-sha-256). Setting the cluster up (install, start,
// create the role) needs root; once done, any user who can read the password file can run the tests.
// TEST_POSTGRES_URL=postgres://user:pass@host/db (a role with CREATEDB) skips all of that and uses another server.
import { execFileSync, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";

const ROLE = "portal_test";
const stateDir = path.resolve(".test-data");
const passwordFile = path.join(stateDir, "postgres-password");
const lockDir = path.join(stateDir, "postgres-setup.lock");

/** A fresh database; drop() removes it (and any connections left open). */
export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Starts the local PostgreSQL if needed and creates a fresh database `portal_test_<random>` for the caller. */
export async function ensurePostgres(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_POSTGRES_URL || (await withSetupLock(setUpLocalCluster));
  const name = `portal_test_${crypto.randomBytes(6).toString("hex")}`;
  await withClient(adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}

async function withClient<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

interface Cluster {
  version: string;
  name: string;
  port: number;
  online: boolean;
}

// Returns an admin URL for the portal_test role on the local cluster.
async function setUpLocalCluster(): Promise<string> {
  let cluster = findCluster();
  if (!cluster.online) {
    requireRoot(`PostgreSQL ${cluster.version}/${cluster.name} is not running`);
    // May race with another test process starting it; the status re-read below is what counts.
    spawnSync("pg_ctlcluster", [cluster.version, cluster.name, "start"], { stdio: "inherit" });
    cluster = findCluster();
    if (!cluster.online) throw new Error(`pg_ctlcluster ${cluster.version} ${cluster.name} start did not start PostgreSQL`);
  }

  const password = readOrCreatePassword();
  const url = `postgres://${ROLE}:${encodeURIComponent(password)}@127.0.0.1:${cluster.port}/postgres`;
  if (await canConnect(url)) return url;

  requireRoot(`role ${ROLE} cannot log in to the local PostgreSQL`);
  const sql = `DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN CREATE ROLE ${ROLE} LOGIN CREATEDB; END IF;
  END $$; ALTER ROLE ${ROLE} LOGIN CREATEDB PASSWORD '${password}';`;
  // Peer authentication as the postgres OS user: the only way in on a fresh Debian cluster.
  const result = spawnSync("su", ["postgres", "-c", `psql -v ON_ERROR_STOP=1 -q -p ${cluster.port} -d postgres`], {
    input: sql,
    encoding: "utf8",
    cwd: "/",
  });
  if (result.status !== 0) throw new Error(`creating role ${ROLE} failed: ${result.stderr || result.error?.message}`);
  if (!(await canConnect(url))) throw new Error(`role ${ROLE} still cannot connect to 127.0.0.1:${cluster.port} (check pg_hba.conf)`);
  return url;
}

function findCluster(): Cluster {
  if (!hasCommand("pg_lsclusters")) installPostgres();
  // Columns: Ver Cluster Port Status Owner Data-directory Log-file
  const clusters = execFileSync("pg_lsclusters", ["--no-header"], { encoding: "utf8" })
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((cols) => cols.length >= 4)
    .map(([version = "", name = "", port = "", status = ""]) => ({
      version,
      name,
      port: Number(port),
      online: status.startsWith("online"),
    }));
  const cluster = clusters.find((c) => c.online) ?? clusters[0];
  if (!cluster) throw new Error("PostgreSQL is installed but has no cluster (create one: pg_createcluster 15 main)");
  return cluster;
}

function installPostgres(): void {
  requireRoot("PostgreSQL is not installed (pg_lsclusters not found)");
  console.log("[postgres] installing PostgreSQL with apt-get…");
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const install = () => spawnSync("apt-get", ["install", "-y", "-q", "postgresql"], { stdio: "inherit", env });
  if (install().status !== 0) {
    spawnSync("apt-get", ["update", "-q"], { stdio: "inherit", env });
    if (install().status !== 0) throw new Error("apt-get install -y postgresql failed");
  }
  if (!hasCommand("pg_lsclusters")) throw new Error("pg_lsclusters still missing after installing postgresql");
}

function requireRoot(problem: string): void {
  if (process.getuid?.() === 0) return;
  throw new Error(
    `${problem}, and fixing it needs root. Run the tests once as root, or set TEST_POSTGRES_URL to a PostgreSQL role with CREATEDB.`,
  );
}

function hasCommand(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

function readOrCreatePassword(): string {
  fs.mkdirSync(stateDir, { recursive: true });
  try {
    return fs.readFileSync(passwordFile, "utf8").trim();
  } catch {
    const password = crypto.randomBytes(24).toString("hex");
    fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    return password;
  }
}

async function canConnect(url: string): Promise<boolean> {
  try {
    await withClient(url, (c) => c.query("SELECT 1"));
    return true;
  } catch {
    return false;
  }
}

// Test files run in parallel processes: serialize starting the cluster and creating the role.
async function withSetupLock<T>(run: () => Promise<T>): Promise<T> {
  fs.mkdirSync(stateDir, { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lockDir);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      // A lock older than the deadline was left by a killed process.
      const age = Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > 120_000) fs.rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await run();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}
