// The Entra tenants one simulator serves: the scenario's home tenant (with the Azure estate) and its extra tenants.
import type { Scenario } from "../contract";
import type { ScenarioUser } from "./tokens";

/** A tenant users can sign in to; `home` is the scenario's tenant, the only one with subscriptions and a directory. */
export interface SimTenant {
  id: string;
  domain: string;
  displayName: string;
  users: ScenarioUser[];
  home: boolean;
}

/** Every tenant of a scenario, the home tenant first. */
export function scenarioTenants(scenario: Scenario): SimTenant[] {
  return [
    { ...scenario.tenant, users: scenario.users, home: true },
    ...scenario.extraTenants.map((t) => ({ ...t.tenant, users: t.users, home: false })),
  ];
}

/** The tenant a tenant id or domain names, case-insensitively. */
export function findTenant(scenario: Scenario, idOrDomain: string): SimTenant | undefined {
  const s = idOrDomain.toLowerCase();
  return scenarioTenants(scenario).find((t) => t.id.toLowerCase() === s || t.domain.toLowerCase() === s);
}

/** A user of any tenant by UPN or object id, with its tenant. */
export function findUserAnywhere(
  scenario: Scenario,
  by: { upn?: string; objectId?: string },
): { tenant: SimTenant; user: ScenarioUser } | undefined {
  for (const tenant of scenarioTenants(scenario)) {
    const user = tenant.users.find((u) =>
      by.upn !== undefined ? u.upn.toLowerCase() === by.upn.toLowerCase() : u.objectId.toLowerCase() === (by.objectId ?? "").toLowerCase(),
    );
    if (user) return { tenant, user };
  }
  return undefined;
}
