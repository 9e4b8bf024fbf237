// The local CA: created once, reused, and a leaf that Node accepts for both localhost and 127.0.0.1.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ensureCa } from "./tls";

describe("ensureCa", () => {
  it("creates a CA and a leaf for localhost/127.0.0.1 once and reuses them", () => {
    const dir = path.join(".test-data", `ca-${crypto.randomUUID()}`);
    const first = ensureCa(dir);
    const pem = fs.readFileSync(first.certPath, "utf8");
    const again = ensureCa(dir);
    expect(again).toEqual(first);
    expect(fs.readFileSync(again.certPath, "utf8")).toBe(pem);
    expect(fs.readdirSync(dir).sort()).toEqual(["ca.pem", "cert.pem", "key.pem"]);

    const ca = new crypto.X509Certificate(fs.readFileSync(first.caPath));
    const leaf = new crypto.X509Certificate(pem);
    expect(ca.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(ca.publicKey)).toBe(true);
    expect(leaf.checkHost("localhost")).toBe("localhost");
    expect(leaf.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(leaf.checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(first.keyPath)))).toBe(true);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
