/**
 * The Entra built-in roles Triage knows, by the role template ids Entra puts in a token's `wids` claim.
 * A copy of the server's list (src/permissions/entra-roles.ts), kept out of the bundle's imports so the browser
 * loads nothing of the server; test/web/enums.test.ts fails when the two disagree.
 */
export const ROLE_IDS: Readonly<Record<string, string>> = {
  "5d6b6bb7-de71-4623-b4af-96380a352509": "Security Reader",
  "f2ef992c-3afb-46b9-b7cf-a126ee74c451": "Global Reader",
  "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f": "Security Operator",
  "194ae4cb-b126-40b2-bd5b-6091b380977d": "Security Administrator",
};

/** Every role, in the order the admin pages offer them (least privilege first). */
export const ROLES: readonly string[] = Object.values(ROLE_IDS);

/** Roles that may change incidents and alerts (with a ReadWrite scope). */
export const WRITE_ROLES: readonly string[] = ["Security Operator", "Security Administrator"];

/** The role the admin pages need. */
export const ADMIN_ROLE = "Security Administrator";

/** The permission merging incidents and moving alerts needs, with one of WRITE_ROLES when delegated. */
export const MANAGE_PERMISSION = "SecurityData.Manage.All";
