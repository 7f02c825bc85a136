/**
 * The demo tenant that `triage serve --demo` seeds: its fixed ids, so that the README, the web app's
 * sign-in page and the tests can name them.
 */

/** The demo tenant that `triage serve --demo` creates on first start. */
export const DEMO_TENANT = "c7a1d2e4-5b6f-4a8c-9d0e-1f2a3b4c5d6e";

/** The demo's Security Administrator, who may use the web app's admin pages. */
export const DEMO_ADMIN = "admin@contoso.com";

export const DEMO_APPS = {
  readWrite: "6a1c3a52-5d1e-4c6b-9f5c-2b7d8e9f0a11",
  readOnly: "6a1c3a52-5d1e-4c6b-9f5c-2b7d8e9f0a12",
  publicClient: "6a1c3a52-5d1e-4c6b-9f5c-2b7d8e9f0a13",
};

/** The demo data ends here, so every start shows the same four weeks. */
export const DEMO_END = new Date("2026-11-01T00:00:00Z");
