// Every lib/ module is server-only, except the pure ones client components import: a client component that reaches
// any other fails the build instead of shipping server code (or a secret's name) to the browser.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const LIB = path.join(process.cwd(), "lib");
/** Imported by client components (components/onboarding/new-run-form.tsx, as values or types). */
const CLIENT_SAFE = ["lib/action-result.ts", "lib/onboarding/preflight.ts", "lib/onboarding/storage-defaults.ts"];

function modules(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "generated" ? [] : modules(full);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [path.relative(process.cwd(), full)] : [];
  });
}

const marks = (file: string) => /^import "server-only";$/m.test(fs.readFileSync(file, "utf8"));

describe("server-only", () => {
  it("is imported by every lib/ module but the client-safe ones", () => {
    const all = modules(LIB);
    expect(all.length).toBeGreaterThan(150);
    expect(all.filter((file) => !CLIENT_SAFE.includes(file) && !marks(file))).toEqual([]);
  });

  it("is not imported by the modules client components use, and those import no other lib/ module's code", () => {
    for (const file of CLIENT_SAFE) {
      const source = fs.readFileSync(file, "utf8");
      expect(marks(file), file).toBe(false);
      // Type-only imports are erased before bundling.
      expect(source.match(/^import (?!type )[^;]*from "(@\/lib\/|\.\.?\/)[^"]*"/gm) ?? [], file).toEqual([]);
    }
  });
});
