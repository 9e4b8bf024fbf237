// Delegated scopes the portal asks for, derived from the configured resource audiences.
import "server-only";
import { env } from "@/lib/env";

export type Resource = "arm" | "graph";

/** Graph permissions the provisioning steps need (app registration, consent), and User.Read for the user's own roles. */
export const GRAPH_PERMISSIONS = [
  "Application.ReadWrite.All",
  "AppRoleAssignment.ReadWrite.All",
  "Application.Read.All",
  // Who may act is decided from the user's directory roles (/me/transitiveMemberOf), which needs only User.Read.
  "User.Read",
] as const;

/** Scopes for a token to `resource`. One resource per token: Entra can't mix audiences. */
export function scopesFor(resource: Resource): string[] {
  const e = env();
  return resource === "arm" ? [`${e.ARM_AUDIENCE}/user_impersonation`] : GRAPH_PERMISSIONS.map((p) => `${e.GRAPH_AUDIENCE}/${p}`);
}

/** Sign-in asks for ARM and, in the same consent prompt, for Graph (extraScopesToConsent). */
export function signInScopes(): { scopes: string[]; extraScopesToConsent: string[] } {
  return { scopes: scopesFor("arm"), extraScopesToConsent: scopesFor("graph") };
}
