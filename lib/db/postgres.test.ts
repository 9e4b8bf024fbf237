// Runs against a real PostgreSQL (started on demand by scripts/postgres.ts; never skipped).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensurePostgres, type TestDatabase } from "../../scripts/postgres";
import { createDb } from "./client";
import { committedMigrations, expectMigrated } from "@/test/support/db/migration-checks";
import { describeAuditQueries } from "@/test/support/db/audit-suite";
import { describeQueries } from "@/test/support/db/query-suite";
import { describeRunQueries } from "@/test/support/db/run-suite";
import { describeVendorQueries } from "@/test/support/db/vendor-suite";

let pg: TestDatabase | undefined;
let queriesPg: TestDatabase | undefined;

beforeAll(async () => {
  pg = await ensurePostgres();
  queriesPg = await ensurePostgres();
}, 300_000);
afterAll(async () => {
  await pg?.drop();
  await queriesPg?.drop();
});

describe("migrations on PostgreSQL", () => {
  it("migrates a new database once; a second run and a new connection apply nothing", async () => {
    const first = await createDb({ databaseUrl: pg!.url, dataDir: ".test-data/unused" });
    expect((await first.migrate()).applied).toEqual(committedMigrations());
    expect(await first.migrate()).toEqual({ applied: [] });
    await expectMigrated(first);
    await first.close();

    const again = await createDb({ databaseUrl: pg!.url, dataDir: ".test-data/unused" });
    expect(await again.migrate()).toEqual({ applied: [] });
    await expectMigrated(again);
    await again.close();
  }, 120_000);
});

describeQueries("PostgreSQL", () => ({ databaseUrl: queriesPg!.url, dataDir: ".test-data/unused" }));
describeRunQueries("PostgreSQL", () => ({ databaseUrl: queriesPg!.url, dataDir: ".test-data/unused" }));
describeAuditQueries("PostgreSQL", () => ({ databaseUrl: queriesPg!.url, dataDir: ".test-data/unused" }));
describeVendorQueries("PostgreSQL", () => ({ databaseUrl: queriesPg!.url, dataDir: ".test-data/unused" }));
