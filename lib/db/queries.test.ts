import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll } from "vitest";
import { describeAuditQueries } from "./audit-suite";
import { describeQueries } from "./query-suite";
import { describeRunQueries } from "./run-suite";
import { describeVendorQueries } from "./vendor-suite";
import { testDbOptions } from "../../test/support/pglite-template";

const dataDir = path.join(".test-data", `db-queries-${crypto.randomBytes(4).toString("hex")}`);
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

describeQueries("PGlite", () => testDbOptions(dataDir));
describeRunQueries("PGlite", () => testDbOptions(dataDir));
describeAuditQueries("PGlite", () => testDbOptions(dataDir));
describeVendorQueries("PGlite", () => testDbOptions(dataDir));
