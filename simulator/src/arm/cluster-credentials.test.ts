// POST listClusterUserCredential / listClusterAdminCredential: the kubeconfig AKS hands out depends on Microsoft Entra
// integration (admin-equivalent without it), and each needs its own RBAC action on the cluster.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningSimulator } from "../index";
import { startTestSimulator } from "../testing";
import { armClients, azureFailure, OWNER, READER, SUB_DEV, SUB_PROD } from "./test-support";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startTestSimulator({ scenario: "simulator/scenarios/non-entra.json" });
});
afterAll(async () => sim.close());

const decode = (r: { kubeconfigs?: { name?: string; value?: Uint8Array }[] }) => ({
  name: r.kubeconfigs?.[0]?.name,
  yaml: Buffer.from(r.kubeconfigs?.[0]?.value ?? new Uint8Array()).toString("utf8"),
});

describe("cluster credentials", () => {
  it("hands out static credentials as the user kubeconfig of a cluster without Entra integration, like the admin one", async () => {
    const aks = armClients(sim, OWNER).aks;
    const user = decode(await aks.managedClusters.listClusterUserCredentials("rg-aks-prod-eastus", "aks-legacy-noaad"));
    const admin = decode(await aks.managedClusters.listClusterAdminCredentials("rg-aks-prod-eastus", "aks-legacy-noaad"));
    expect(user.name).toBe("clusterUser");
    expect(admin.name).toBe("clusterAdmin");
    for (const k of [user, admin]) {
      expect(k.yaml).toMatch(/client-certificate-data: \S+/);
      expect(k.yaml).toMatch(/token: [0-9a-f]{64}/);
      expect(k.yaml).not.toContain("kubelogin");
    }
  });

  it("hands out an exec (kubelogin) user entry without any credential on an Entra cluster, and no static admin one without local accounts", async () => {
    const aks = armClients(sim, OWNER).aks;
    const user = decode(await aks.managedClusters.listClusterUserCredentials("rg-aks-prod-eastus", "aks-payments-prod"));
    expect(user.yaml).toContain("command: kubelogin");
    expect(user.yaml).not.toMatch(/client-certificate-data|token:/);
    const refused = await azureFailure(aks.managedClusters.listClusterAdminCredentials("rg-aks-prod-eastus", "aks-payments-prod"));
    expect(refused).toMatchObject({ statusCode: 400, code: "BadRequest" });
    // Entra without Azure RBAC keeps local accounts: the admin credential is still static.
    const dev = armClients(sim, OWNER, SUB_DEV).aks;
    expect(decode(await dev.managedClusters.listClusterAdminCredentials("rg-aks-dev-westeurope", "aks-dev-k8srbac")).yaml).toMatch(
      /client-certificate-data/,
    );
  });

  it("needs listClusterUserCredential/action on the cluster: a Reader is refused with AuthorizationFailed", async () => {
    const aks = armClients(sim, READER, SUB_PROD).aks;
    const refused = await azureFailure(aks.managedClusters.listClusterUserCredentials("rg-aks-prod-eastus", "aks-legacy-noaad"));
    expect(refused).toMatchObject({ statusCode: 403, code: "AuthorizationFailed" });
    expect(refused.message).toContain("Microsoft.ContainerService/managedClusters/listClusterUserCredential/action");
  });
});
