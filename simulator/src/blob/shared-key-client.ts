// A tiny Blob REST client with Shared Key auth, trusting the simulator CA explicitly
// (the simulator process itself may run without NODE_EXTRA_CA_CERTS, so the Azure SDK's default agent would refuse Azurite).
import crypto from "node:crypto";
import https from "node:https";

export interface BlobResponse {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

const API_VERSION = "2021-12-02";

export class SharedKeyBlobClient {
  private readonly agent: https.Agent;

  constructor(
    /** https://127.0.0.1:PORT (path-style: the account is the first path segment). */
    private readonly baseUrl: string,
    private readonly account: string,
    private readonly base64Key: string,
    ca: Buffer,
  ) {
    this.agent = new https.Agent({ ca, keepAlive: false });
  }

  /** PUT/GET/… on `/<account>/<resourcePath>`; `resourcePath` must already be URL-safe. */
  request(
    method: string,
    resourcePath: string,
    opts: { query?: Record<string, string>; headers?: Record<string, string>; body?: Buffer } = {},
  ): Promise<BlobResponse> {
    const body = opts.body ?? Buffer.alloc(0);
    const path = `/${this.account}/${resourcePath}`;
    const query = opts.query ?? {};
    const headers: Record<string, string> = {
      "x-ms-date": new Date().toUTCString(),
      "x-ms-version": API_VERSION,
      ...Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    };
    if (body.length > 0 || method === "PUT") headers["content-length"] = String(body.length);
    const canonicalHeaders = Object.keys(headers)
      .filter((k) => k.startsWith("x-ms-"))
      .sort()
      .map((k) => `${k}:${headers[k]?.trim()}\n`)
      .join("");
    const canonicalResource =
      `/${this.account}${path}` +
      Object.keys(query)
        .map((k) => k.toLowerCase())
        .sort()
        .map((k) => `\n${k}:${query[k] ?? ""}`)
        .join("");
    const h = (k: string) => headers[k] ?? "";
    const stringToSign = [
      method,
      h("content-encoding"),
      h("content-language"),
      body.length > 0 ? String(body.length) : "",
      h("content-md5"),
      h("content-type"),
      "",
      h("if-modified-since"),
      h("if-match"),
      h("if-none-match"),
      h("if-unmodified-since"),
      h("range"),
      canonicalHeaders + canonicalResource,
    ].join("\n");
    const signature = crypto.createHmac("sha256", Buffer.from(this.base64Key, "base64")).update(stringToSign, "utf8").digest("base64");
    headers.authorization = `SharedKey ${this.account}:${signature}`;
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return new Promise((resolve, reject) => {
      const req = https.request(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), headers: res.headers }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
  }
}
