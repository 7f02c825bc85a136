import { FormatRegistry } from "@sinclair/typebox";
import { isInstant } from "./date-time.js";

/**
 * The string formats the schemas use, registered with TypeBox once: an unregistered format makes
 * Value.Check fail every value, which silently refused alerts exported with their comments.
 */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

if (!FormatRegistry.Has("date-time")) FormatRegistry.Set("date-time", isInstant);
if (!FormatRegistry.Has("uuid")) FormatRegistry.Set("uuid", (v) => GUID.test(v));
