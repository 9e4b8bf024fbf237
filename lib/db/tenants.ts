// Entra tenants' display names, as Azure reported them at a sign-in.
import "server-only";
import { db } from "./client";

/** A tenant's name for lists ("Contoso" instead of a GUID). */
export interface TenantName {
  id: string;
  displayName: string;
  defaultDomain: string | null;
  updatedAt: Date;
}

/** Stores or refreshes a tenant's display name (tenants rename themselves). */
export async function upsertTenantName(input: { id: string; displayName: string; defaultDomain: string | null }): Promise<TenantName> {
  const prisma = await db();
  const data = { displayName: input.displayName, defaultDomain: input.defaultDomain };
  return prisma.tenant.upsert({ where: { id: input.id }, create: { id: input.id, ...data }, update: data });
}

/** Known names of these tenants, by tenant id; unknown tenants are absent. */
export async function tenantNames(ids: readonly string[]): Promise<Map<string, TenantName>> {
  if (ids.length === 0) return new Map();
  const prisma = await db();
  const rows = await prisma.tenant.findMany({ where: { id: { in: [...new Set(ids)] } } });
  return new Map(rows.map((r) => [r.id, r]));
}
