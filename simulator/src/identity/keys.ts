// The simulator's token-signing key: RSA, persisted in the data dir so tokens survive a restart.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export interface SigningKey {
  kid: string;
  privateKey: crypto.KeyObject;
  publicKey: crypto.KeyObject;
  /** The public key as a JWK, ready for the JWKS document. */
  jwk: Record<string, string>;
}

/** Load `<dataDir>/signing-key.pem`, creating it on first use. */
export function loadSigningKey(dataDir: string): SigningKey {
  const file = path.join(dataDir, "signing-key.pem");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    fs.renameSync(tmp, file);
  }
  const privateKey = crypto.createPrivateKey(fs.readFileSync(file));
  const publicKey = crypto.createPublicKey(privateKey);
  const pub = publicKey.export({ format: "jwk" }) as { n: string; e: string };
  // Entra's kid is a base64url thumbprint; a SHA-1 of the modulus gives the same shape.
  const kid = crypto.createHash("sha1").update(pub.n).digest("base64url");
  return { kid, privateKey, publicKey, jwk: { kty: "RSA", use: "sig", kid, x5t: kid, n: pub.n, e: pub.e } };
}
