// Routes Microsoft's world-wide Entra host to the simulator for az, through an HTTPS proxy on loopback.
//
// Why: az 2.45 runs on MSAL Python 1.21, which validates every authority host it does not know by asking
// https://login.microsoftonline.com/common/discovery/instance (msal/authority.py, Authority.__init__), and az 2.45 has no
// setting to turn that off (Azure/azure-cli#26433; `core.instance_discovery` came with Azure/azure-cli#27494, az 2.54).
// So the simulator, which plays Entra, must also answer at that host. az reaches it through HTTPS_PROXY; every other
// host (the simulator itself) is in NO_PROXY. The proxy serves only that host, with a certificate of its own CA.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import type { Duplex } from "node:stream";
import path from "node:path";

export const ENTRA_WORLD_WIDE_HOST = "login.microsoftonline.com";

export interface EntraHostProxy {
  /** http://127.0.0.1:PORT, for HTTPS_PROXY. */
  url: string;
  /** This proxy's CA, to add to the simulator's in REQUESTS_CA_BUNDLE. */
  caPath: string;
  /** Paths asked of the world-wide host, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** A CA and a leaf certificate for login.microsoftonline.com in `dir` (throw-away, made per test file). */
function makeCertificate(dir: string): { caPath: string; certPath: string; keyPath: string } {
  fs.mkdirSync(dir, { recursive: true });
  const f = (name: string) => path.join(dir, name);
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  run(
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2", "-subj", "/CN=Entra host test CA"]
      .concat(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
      .concat(["-keyout", f("ca-key.pem"), "-out", f("ca.pem")]),
  );
  run([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-sha256",
    "-subj",
    `/CN=${ENTRA_WORLD_WIDE_HOST}`,
    "-keyout",
    f("key.pem"),
    "-out",
    f("leaf.csr"),
  ]);
  fs.writeFileSync(f("leaf.ext"), `basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:${ENTRA_WORLD_WIDE_HOST}\n`);
  run(
    [
      "x509",
      "-req",
      "-in",
      f("leaf.csr"),
      "-CA",
      f("ca.pem"),
      "-CAkey",
      f("ca-key.pem"),
      "-CAcreateserial",
      "-days",
      "2",
      "-sha256",
    ].concat(["-extfile", f("leaf.ext"), "-out", f("cert.pem")]),
  );
  return { caPath: f("ca.pem"), certPath: f("cert.pem"), keyPath: f("key.pem") };
}

/** Starts the proxy: CONNECT login.microsoftonline.com:443 reaches the simulator; any other CONNECT is refused. */
export async function startEntraHostProxy(sim: { url: string; caPath: string }, dir: string): Promise<EntraHostProxy> {
  const cert = makeCertificate(dir);
  const requests: string[] = [];
  const front = https.createServer({ key: fs.readFileSync(cert.keyPath), cert: fs.readFileSync(cert.certPath) }, (req, res) => {
    requests.push(req.url ?? "");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(
          (e): e is [string, string] => typeof e[1] === "string" && !["host", "connection"].includes(e[0]),
        ),
      );
      const forward = https.request(
        `${sim.url}${req.url ?? "/"}`,
        { method: req.method, headers, ca: fs.readFileSync(sim.caPath) },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, {
            "content-type": answer.headers["content-type"] ?? "application/json",
            ...(answer.headers["content-length"] ? { "content-length": answer.headers["content-length"] } : {}),
          });
          answer.pipe(res);
        },
      );
      forward.on("error", (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      forward.end(chunks.length ? Buffer.concat(chunks) : undefined);
    });
  });
  const proxy = http.createServer((_req, res) => {
    res.writeHead(403);
    res.end();
  });
  const sockets = new Set<Duplex>();
  proxy.on("connect", (req: http.IncomingMessage, socket: Duplex) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    if (req.url !== `${ENTRA_WORLD_WIDE_HOST}:443`) {
      socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
      return;
    }
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    front.emit("connection", socket);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  if (!address || typeof address === "string") throw new Error("proxy has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    caPath: cert.caPath,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      front.close();
    },
  };
}
