import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll } from "vitest";
import { describeAuditQueries } from "@/test/support/db/audit-suite";
import { describeQueries } from "@/test/support/db/query-suite";
import { describeRunQueries } from "@/test/support/db/run-suite";
import { describeVendorQueries } from "@/test/support/db/vendor-suite";
import { testDbOptions } from "../../test/support/pglite-template";

const dataDir = path.join(".test-data", `db-queries-${crypto.randomBytes(4).toString("hex")}`);
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describeQueries("PGlite", () => testDbOptions(dataDir));
describeRunQueries("PGlite", () => testDbOptions(dataDir));
describeAuditQueries("PGlite", () => testDbOptions(dataDir));
describeVendorQueries("PGlite", () => testDbOptions(dataDir));
