import { describe, expect, it } from "vitest";
import {
  failureMessage,
  kubeAuditPrefix,
  newestBlobOf,
  parseVerificationOutput,
  summarizeChecks,
  type VerificationCheck,
} from "./verification-results";

const CLUSTER =
  "/subscriptions/602d1a18-a35e-4b89-a27e-56cb26da2c7b/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks-payments";
const check = (status: VerificationCheck["status"], label: string = status, reason = `why ${status}`): VerificationCheck => ({
  id: label,
  label,
  status,
  reason,
  at: "2026-11-27T07:00:00.000Z",
});

describe("newestBlobOf", () => {
  const blob = (cluster: string, hour: string, at: string) => ({
    name: `${kubeAuditPrefix(cluster)}y=2026/m=11/d=27/h=${hour}/m=00/PT1H.json`,
    lastModified: new Date(at),
  });

  it("picks the cluster's most recently written blob, matching the upper-cased resource id AKS writes", () => {
    const other = CLUSTER.replace("aks-payments", "aks-payments-2");
    const blobs = [
      blob(CLUSTER, "05", "2026-11-27T05:59:00Z"),
      blob(CLUSTER, "06", "2026-11-27T06:10:00Z"),
      blob(other, "07", "2026-11-27T07:00:00Z"),
    ];
    expect(kubeAuditPrefix(CLUSTER)).toBe(`resourceId=${CLUSTER.toUpperCase()}/`);
    expect(newestBlobOf(CLUSTER, blobs)?.lastModified.toISOString()).toBe("2026-11-27T06:10:00.000Z");
    expect(newestBlobOf(CLUSTER.toLowerCase(), blobs)?.name).toContain("h=06");
  });

  it("doesn't confuse a cluster with another whose name it prefixes, and is null before the first logs", () => {
    const longer = CLUSTER.replace("aks-payments", "aks-payments-eu");
    expect(newestBlobOf(CLUSTER, [blob(longer, "01", "2026-11-27T01:00:00Z")])).toBeNull();
    expect(newestBlobOf(CLUSTER, [])).toBeNull();
  });
});

describe("failureMessage and summarizeChecks", () => {
  it("is null without failures: waiting and not-tested checks don't fail the step", () => {
    expect(failureMessage([check("pass"), check("waiting"), check("skipped")])).toBeNull();
  });

  it("names the first failed check and its reason, and how many more failed", () => {
    expect(failureMessage([check("pass"), check("fail", "Read cluster a", "no role")])).toBe(
      "Verification failed: Read cluster a: no role",
    );
    expect(failureMessage([check("fail", "A", "x"), check("fail", "B"), check("fail", "C")])).toBe(
      "Verification failed: A: x (and 2 more failed checks, listed below)",
    );
  });

  it("counts by status", () => {
    expect(summarizeChecks([check("pass"), check("pass"), check("fail"), check("waiting")])).toEqual({
      pass: 2,
      fail: 1,
      waiting: 1,
      skipped: 0,
    });
  });
});

describe("parseVerificationOutput", () => {
  it("accepts a stored output and rejects anything else", () => {
    const out = {
      ranAt: "2026-11-27T07:00:00.000Z",
      credential: "verification-secret",
      checks: [{ ...check("pass"), newestBlobAt: "2026-11-27T06:59:00.000Z" }],
    };
    expect(parseVerificationOutput(out)).toEqual(out);
    expect(parseVerificationOutput({ checks: [{ status: "great" }] })).toBeNull();
    expect(parseVerificationOutput(null)).toBeNull();
  });
});
