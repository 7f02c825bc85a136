/** The label of a request no route matched (404s, and requests refused before routing): never the raw URL. */
export const UNMATCHED_ROUTE = "(unmatched)";
