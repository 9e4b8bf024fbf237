// Local certificate authority and leaf certificate for the simulator's HTTPS listeners.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface CaFiles {
  /** The CA certificate to trust (NODE_EXTRA_CA_CERTS). */
  caPath: string;
  /** Leaf certificate for localhost / 127.0.0.1, signed by the CA. */
  certPath: string;
  keyPath: string;
}

function files(dir: string): CaFiles {
  return { caPath: path.join(dir, "ca.pem"), certPath: path.join(dir, "cert.pem"), keyPath: path.join(dir, "key.pem") };
}

function complete(f: CaFiles): boolean {
  return [f.caPath, f.certPath, f.keyPath].every((p) => fs.existsSync(p) && fs.statSync(p).size > 0);
}

/**
 * Create (once) a CA and a leaf certificate for localhost/127.0.0.1 in `dir`; reuse them afterwards.
 * Call it before starting any process that must trust the CA: NODE_EXTRA_CA_CERTS is read at process start only.
 */
export function ensureCa(dir: string): CaFiles {
  const target = files(path.resolve(dir));
  if (complete(target)) return target;
  fs.mkdirSync(path.dirname(path.resolve(dir)), { recursive: true });
  // Generate in a private temp dir and rename, so concurrent callers never see half-written files.
  const tmp = fs.mkdtempSync(path.join(path.dirname(path.resolve(dir)), ".ca-tmp-"));
  try {
    const t = files(tmp);
    const caKey = path.join(tmp, "ca-key.pem");
    const csr = path.join(tmp, "leaf.csr");
    const ext = path.join(tmp, "leaf.ext");
    const run = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
    run([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-sha256",
      "-days",
      "3650",
      "-subj",
      "/CN=Azure Simulator Local CA",
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
      "-keyout",
      caKey,
      "-out",
      t.caPath,
    ]);
    run(["req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-subj", "/CN=localhost", "-keyout", t.keyPath, "-out", csr]);
    fs.writeFileSync(
      ext,
      [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "extendedKeyUsage=serverAuth",
        "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "",
      ].join(os.EOL),
    );
    run([
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      t.caPath,
      "-CAkey",
      caKey,
      "-CAcreateserial",
      "-days",
      "825",
      "-sha256",
      "-extfile",
      ext,
      "-out",
      t.certPath,
    ]);
    for (const f of fs.readdirSync(tmp)) if (!["ca.pem", "cert.pem", "key.pem"].includes(f)) fs.rmSync(path.join(tmp, f));
    try {
      fs.renameSync(tmp, path.resolve(dir));
    } catch {
      // Another process won the race (or an incomplete dir exists): keep a complete one.
      if (complete(target)) return target;
      fs.rmSync(path.resolve(dir), { recursive: true, force: true });
      fs.renameSync(tmp, path.resolve(dir));
    }
    return target;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
