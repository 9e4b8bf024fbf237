// Shared Key signature of a blob request (learn.microsoft.com "Authorize with Shared Key"), path-style as Azurite expects.
import crypto from "node:crypto";

type Headers = Record<string, string | string[] | undefined>;

/** `SharedKey <account>:<signature>` for a request as it will be sent (method, path and query, headers). */
export function sharedKeyAuthorization(args: {
  method: string;
  url: string;
  headers: Headers;
  account: string;
  base64Key: string;
}): string {
  const h = (name: string): string => {
    const v = args.headers[name];
    return (Array.isArray(v) ? v.join(",") : (v ?? "")).trim();
  };
  const u = new URL(`https://127.0.0.1${args.url}`);
  const canonicalHeaders = Object.keys(args.headers)
    .map((k) => k.toLowerCase())
    .filter((k) => k.startsWith("x-ms-"))
    .sort()
    .map((k) => `${k}:${h(k).replace(/\s+/g, " ")}\n`)
    .join("");
  const params = new Map<string, string[]>();
  for (const [k, v] of u.searchParams) params.set(k.toLowerCase(), [...(params.get(k.toLowerCase()) ?? []), v]);
  // Path-style: Azurite canonicalizes "/<account>" followed by the full path, which itself starts with "/<account>".
  const canonicalResource =
    `/${args.account}${u.pathname}` +
    [...params.keys()]
      .sort()
      .map((k) => `\n${k}:${(params.get(k) ?? []).sort().join(",")}`)
      .join("");
  const contentLength = h("content-length");
  const stringToSign = [
    args.method.toUpperCase(),
    h("content-encoding"),
    h("content-language"),
    contentLength === "0" ? "" : contentLength,
    h("content-md5"),
    h("content-type"),
    h("x-ms-date") ? "" : h("date"),
    h("if-modified-since"),
    h("if-match"),
    h("if-none-match"),
    h("if-unmodified-since"),
    h("range"),
    canonicalHeaders + canonicalResource,
  ].join("\n");
  const signature = crypto.createHmac("sha256", Buffer.from(args.base64Key, "base64")).update(stringToSign, "utf8").digest("base64");
  return `SharedKey ${args.account}:${signature}`;
}
