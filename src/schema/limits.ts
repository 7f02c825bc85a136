/**
 * The bounds on what a client may send. They are part of the data contract rather than per-server
 * settings: every node of one store must accept and be able to read back the same documents, and an
 * entity that one server accepted must stay addressable and patchable on any other. Each is documented
 * in docs/security/input-limits.md with what the client sees when it is exceeded.
 */

/** Longest alert id (and so the longest path id that can name one); ingestion and routes share it. */
export const MAX_ID_LENGTH = 200;

/**
 * Largest incident id: the id column is a 32-bit integer on PostgreSQL, so a larger number cannot
 * name an incident on any store.
 */
export const MAX_INCIDENT_ID = 2_147_483_647;

/** An alert's title, and an incident's name (a single alert's title becomes its incident's name). */
export const MAX_TITLE_LENGTH = 1_000;

/** Who an incident or alert is assigned to: free text, usually a UPN. */
export const MAX_ASSIGNED_TO_LENGTH = 400;

/** Long free text: descriptions, summaries, recommended actions, resolving comments, one comment. */
export const MAX_TEXT_LENGTH = 30_000;

/** Any other string property of an alert or comment (names, URLs, product and detector ids). */
export const MAX_STRING_LENGTH = 4_000;

/** One tag (customTags, systemTags) or other string-collection element (categories, mitreTechniques). */
export const MAX_TAG_LENGTH = 256;

/** Elements of one string collection (customTags, systemTags, categories, mitreTechniques). */
export const MAX_TAGS = 100;

/** Comments one incident or alert may hold, however they arrived (POST …/comments or ingestion). */
export const MAX_COMMENTS = 500;

/** Characters all comments of one incident or alert may hold together. */
export const MAX_COMMENTS_TOTAL_LENGTH = 1_000_000;

/** Evidence elements of one alert. */
export const MAX_EVIDENCE = 500;

/**
 * Nesting of a free-form document (customDetails, additionalData, one evidence element), the document
 * itself being level 1. SQLite's JSON functions stop at 1,000 levels and recursive JSON code at a few
 * thousand; the known evidence shapes need 6.
 */
export const MAX_DOCUMENT_DEPTH = 32;

/** Size of one free-form document as stored (UTF-8 JSON). */
export const MAX_DOCUMENT_BYTES = 64 * 1024;

/**
 * Date-times an entity may store, in UTC. The lower bound rules out placeholder and mistyped years
 * (0000, 0201); the upper one is the last instant every store and every Graph client can represent.
 */
export const MIN_STORED_INSTANT = "1900-01-01T00:00:00.000Z";
export const MAX_STORED_INSTANT = "9999-12-31T23:59:59.999Z";

/** $filter date-time literals: any Edm.DateTimeOffset (years 0001 to 9999 in UTC), as Graph accepts. */
export const MIN_FILTER_INSTANT = "0001-01-01T00:00:00.000Z";
export const MAX_FILTER_INSTANT = MAX_STORED_INSTANT;

/**
 * The longest query the hunting editor's language support (POST /triage/hunting/editor) analyzes. The
 * editor sends the whole text on each edit and the language service's work grows with it, on the
 * server's event loop: this keeps one edit's analysis to a few hundred milliseconds at worst.
 */
export const MAX_EDITOR_QUERY = 10_000;

/**
 * One incident or alert document that a fixture import or `triage sync` writes, as stored (UTF-8 JSON,
 * without an incident's expanded alerts): an incident with the most comments ingestion allows is well
 * under it. The same as a fixture file's longest line.
 */
export const MAX_RECORD_BYTES = 8 * 1024 * 1024;

/**
 * Nesting of such a document: an alert's evidence element may be MAX_DOCUMENT_DEPTH deep, and sits
 * three levels down (the alert, its evidence array, the element).
 */
export const MAX_RECORD_DEPTH = MAX_DOCUMENT_DEPTH + 3;
