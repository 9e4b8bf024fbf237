import crypto from "node:crypto";
import type * as storageBlob from "@azure/storage-blob";
import { RestError } from "@azure/storage-blob";
import { describe, expect, it, vi } from "vitest";

// requestTimeoutMs() reads the portal's configuration.
vi.stubEnv("ENCRYPTION_KEY", crypto.randomBytes(32).toString("base64"));
vi.stubEnv("ENTRA_CLIENT_ID", "00000000-0000-4000-8000-000000000001");
vi.stubEnv("ENTRA_CLIENT_SECRET", "test-secret");

const download = vi.hoisted(() => vi.fn());
vi.mock("@azure/storage-blob", async (importOriginal) => {
  const actual = await importOriginal<typeof storageBlob>();
  class BlobServiceClient {
    getContainerClient() {
      return { getBlobClient: () => ({ download }) };
    }
  }
  return { ...actual, BlobServiceClient };
});

const { readBlobStart } = await import("./read-blob-start");
const credential = { getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 60_000 }) };
const read = () => readBlobStart(credential, "https://acct.blob.core.windows.net", "insights-logs-kube-audit", "resourceId=/x/PT1H.json");

describe("readBlobStart", () => {
  it("counts the bytes of the range it read", async () => {
    download.mockResolvedValueOnce({ readableStreamBody: [Buffer.from("abc"), Buffer.from("de")] });
    expect(await read()).toEqual({ kind: "ok", bytes: 5 });
  });

  it("takes 416 InvalidRange (an empty blob, e.g. a new hour's append blob) as read access proven, with 0 bytes", async () => {
    download.mockRejectedValueOnce(
      new RestError("The range specified is invalid for the current size of the resource.", { statusCode: 416, code: "InvalidRange" }),
    );
    expect(await read()).toEqual({ kind: "ok", bytes: 0 });
  });

  it("reports a refusal with Azure's code, and fails on anything else", async () => {
    download.mockRejectedValueOnce(
      new RestError("This request is not authorized to perform this operation using this permission.", {
        statusCode: 403,
        code: "AuthorizationPermissionMismatch",
      }),
    );
    expect(await read()).toEqual({ kind: "denied", azureCode: "AuthorizationPermissionMismatch" });
    download.mockRejectedValueOnce(new RestError("Server busy", { statusCode: 500, code: "ServerBusy" }));
    await expect(read()).rejects.toThrow();
  });
});
