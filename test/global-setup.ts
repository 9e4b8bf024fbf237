// Runs once before all test files: creates the test CA and makes every test process trust it.
import { ensureCa } from "../simulator/src/tls";

export default function setup(): void {
  const { caPath } = ensureCa(".test-data/ca");
  // Test workers are forked after this point, so they inherit it (see offline-recipes.md, "HTTPS on loopback").
  process.env.NODE_EXTRA_CA_CERTS = caPath;
}
