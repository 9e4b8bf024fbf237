// Runs once before all test files: creates the test CA (every test process trusts it) and the migrated PGlite template.
import { ensureCa } from "../simulator/src/tls";
import { ensurePgliteTemplate } from "./support/pglite-template";

export default async function setup(): Promise<void> {
  const { caPath } = ensureCa(".test-data/ca");
  // Test workers are forked after this point, so they inherit it (see offline-recipes.md, "HTTPS on loopback").
  process.env.NODE_EXTRA_CA_CERTS = caPath;
  await ensurePgliteTemplate();
}
