/**
 * The Entra built-in roles that matter to the security API, with their role template ids (the values
 * Entra puts in a token's `wids` claim).
 */
export const ENTRA_ROLES = {
  "Security Reader": "5d6b6bb7-de71-4623-b4af-96380a352509",
  "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
  "Security Operator": "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f",
  "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
} as const;

export type EntraRole = keyof typeof ENTRA_ROLES;

export function isEntraRole(name: string): name is EntraRole {
  return Object.hasOwn(ENTRA_ROLES, name);
}

/** Role names for the template ids in a `wids` claim (unknown ids are ignored). */
export function rolesFromWids(wids: readonly string[]): EntraRole[] {
  const byId = new Map<string, EntraRole>(Object.entries(ENTRA_ROLES).map(([name, id]): [string, EntraRole] => [id, name as EntraRole]));
  return wids.map((w) => byId.get(w.toLowerCase())).filter((r): r is EntraRole => r !== undefined);
}

/** "Security Reader", "security reader" and "SecurityReader" all name the Security Reader role. */
export function parseRole(input: string): EntraRole | undefined {
  const key = input.replace(/[\s_-]/g, "").toLowerCase();
  return (Object.keys(ENTRA_ROLES) as EntraRole[]).find((r) => r.replace(/\s/g, "").toLowerCase() === key);
}
