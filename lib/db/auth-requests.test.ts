// The bound on pending sign-ins, on PGlite and on a real PostgreSQL (started on demand by scripts/postgres.ts; never skipped).
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { ensurePostgres, type TestDatabase } from "../../scripts/postgres";
import { describeAuthRequestBound } from "@/test/support/db/auth-requests-suite";
import { testDbOptions } from "../../test/support/pglite-template";

const dataDir = path.join(".test-data", `auth-requests-${crypto.randomBytes(4).toString("hex")}`);
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describeAuthRequestBound("PGlite", () => testDbOptions(dataDir));

describe("on PostgreSQL", () => {
  let pg: TestDatabase | undefined;
  beforeAll(async () => {
    pg = await ensurePostgres();
  }, 300_000);
  afterAll(async () => {
    await pg?.drop();
  });
  describeAuthRequestBound("PostgreSQL", () => ({ databaseUrl: pg!.url, dataDir: ".test-data/unused" }));
});
