// CLI: run the Azure simulator until SIGTERM/SIGINT.
// tsx simulator/main.ts --port 8443 --blob-port 10000 --data-dir .data/simulator --scenario simulator/scenarios/default.json \
//   --client-id <uuid> --client-secret <s> --workbench-api-key <k>
import { parseArgs } from "node:util";
import { z } from "zod";
import { startSimulator } from "./src/index";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8443" },
    "blob-port": { type: "string", default: "10000" },
    "data-dir": { type: "string", default: ".data/simulator" },
    scenario: { type: "string", default: "simulator/scenarios/default.json" },
    "client-id": { type: "string", multiple: true },
    "client-secret": { type: "string", multiple: true },
    "workbench-api-key": { type: "string" },
    "kube-audit-interval": { type: "string", default: "15" },
    "no-blob": { type: "boolean", default: false },
    "secret-propagation-seconds": { type: "string", default: "10" },
    help: { type: "boolean", short: "h", default: false },
  },
});

const USAGE = `Usage: tsx simulator/main.ts --client-id <uuid> --client-secret <secret> --workbench-api-key <key>
  [--port 8443] [--blob-port 10000] [--data-dir .data/simulator] [--scenario simulator/scenarios/default.json]
  [--kube-audit-interval 15 (seconds)] [--no-blob] [--secret-propagation-seconds 10]
--client-id/--client-secret may be repeated (pairs in order).`;

const cliSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535),
  blobPort: z.coerce.number().int().min(0).max(65535),
  dataDir: z.string().min(1),
  scenario: z.string().min(1),
  clientIds: z.array(z.string().min(1)).min(1, "--client-id is required"),
  clientSecrets: z.array(z.string().min(1)).min(1, "--client-secret is required"),
  workbenchApiKey: z.string({ error: "--workbench-api-key is required" }).min(1),
  kubeAuditSeconds: z.coerce.number().min(1),
  secretPropagationSeconds: z.coerce.number().min(0).max(600),
});

async function main(): Promise<void> {
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const parsed = cliSchema.safeParse({
    port: values.port,
    blobPort: values["blob-port"],
    dataDir: values["data-dir"],
    scenario: values.scenario,
    clientIds: values["client-id"] ?? [],
    clientSecrets: values["client-secret"] ?? [],
    workbenchApiKey: values["workbench-api-key"],
    kubeAuditSeconds: values["kube-audit-interval"],
    secretPropagationSeconds: values["secret-propagation-seconds"],
  });
  if (!parsed.success) {
    console.error(`${parsed.error.issues.map((i) => i.message).join("\n")}\n\n${USAGE}`);
    process.exit(2);
  }
  const a = parsed.data;
  if (a.clientIds.length !== a.clientSecrets.length) {
    console.error(`Give one --client-secret per --client-id.\n\n${USAGE}`);
    process.exit(2);
  }
  const sim = await startSimulator({
    port: a.port,
    blobPort: a.blobPort,
    dataDir: a.dataDir,
    scenario: a.scenario,
    clients: a.clientIds.map((clientId, i) => ({ clientId, clientSecret: a.clientSecrets[i] ?? "" })),
    workbenchApiKey: a.workbenchApiKey,
    blob: !values["no-blob"],
    kubeAuditIntervalMs: Math.round(a.kubeAuditSeconds * 1000),
    secretPropagationMs: Math.round(a.secretPropagationSeconds * 1000),
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`simulator: ${signal}, stopping`);
    sim.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  console.error(`simulator: blob storage (Azurite) on ${sim.blobUrl}, CA ${sim.caPath}`);
  console.log(`simulator ready on ${sim.url}`);
}

main().catch((err: unknown) => {
  console.error(`simulator: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
