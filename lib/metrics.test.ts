// The metrics registry: one per process, even when its module is loaded twice (Next dev reloads, several bundles).
import { describe, expect, it, vi } from "vitest";
import { metrics } from "./metrics";

describe("metrics", () => {
  it("keeps one registry when the module is loaded again", async () => {
    const first = metrics();
    first.retries.inc({ class: "transient" });
    vi.resetModules();
    const again: { metrics: typeof metrics } = await import("./metrics");
    expect(again.metrics).not.toBe(metrics);
    expect(again.metrics()).toBe(first);
    expect(again.metrics().registry).toBe(first.registry);
  });

  it("exposes every instrument in the Prometheus text format", async () => {
    const m = metrics();
    m.runs.set({ status: "running" }, 2);
    m.stepDuration.observe({ step: "storage", outcome: "done" }, 1.5);
    m.jobsWorking.inc({ job: "step" });
    m.azureRequests.inc({ service: "arm", operation: "PUT Microsoft.Storage/storageAccounts", status: "200" });
    m.azureRequestDuration.observe({ service: "arm", operation: "PUT Microsoft.Storage/storageAccounts" }, 0.2);
    m.leaseTakeovers.inc({ job: "step", by: "execution" });
    m.leasesLost.inc({ job: "step" });
    m.signIns.inc({ outcome: "denied" });
    const text = await m.registry.metrics();
    expect(text).toContain('portal_runs{status="running"} 2');
    expect(text).toContain('portal_step_duration_seconds_bucket{le="2",step="storage",outcome="done"} 1');
    expect(text).toContain('portal_jobs_working{job="step"} 1');
    expect(text).toContain('portal_azure_requests_total{service="arm",operation="PUT Microsoft.Storage/storageAccounts",status="200"} 1');
    expect(text).toContain(
      'portal_azure_request_duration_seconds_count{service="arm",operation="PUT Microsoft.Storage/storageAccounts"} 1',
    );
    expect(text).toMatch(/portal_retries_total\{class="transient"\} [1-9]/);
    expect(text).toContain('portal_lease_takeovers_total{job="step",by="execution"} 1');
    expect(text).toContain('portal_leases_lost_total{job="step"} 1');
    expect(text).toContain('portal_sign_ins_total{outcome="denied"} 1');
    expect(text).toContain("portal_process_resident_memory_bytes");
  });
});
