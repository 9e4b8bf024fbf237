// Run a Log Analytics query against one workspace with a given credential (the vendor app's, in verification).
import "server-only";
import type { TokenCredential } from "@azure/core-auth";
import { LogsQueryResultStatus } from "@azure/monitor-query-logs";
import { logsQueryClient } from "./clients";
import { toAzureError } from "./errors";

export type WorkspaceQueryResult = { kind: "ok"; tables: number; rows: number } | { kind: "denied"; azureCode: string; status: number };

/** `query` over the last hour in workspace `workspaceId` (its customerId GUID). */
export async function queryLogAnalytics(credential: TokenCredential, workspaceId: string, query: string): Promise<WorkspaceQueryResult> {
  const client = logsQueryClient(credential);
  try {
    const result = await client.queryWorkspace(workspaceId, query, { duration: "PT1H" });
    const tables = result.status === LogsQueryResultStatus.Success ? result.tables : result.partialTables;
    return { kind: "ok", tables: tables.length, rows: tables.reduce((n, t) => n + t.rows.length, 0) };
  } catch (error) {
    const e = error as { statusCode?: number; code?: string };
    if (e.statusCode === 403 || e.statusCode === 401) return { kind: "denied", azureCode: e.code ?? "Forbidden", status: e.statusCode };
    throw toAzureError(error, {
      action: "query the Log Analytics workspace",
      requiredRole: "the portal's Log Analytics query role (Microsoft.OperationalInsights/workspaces/query/read)",
    });
  }
}
