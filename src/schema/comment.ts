import { Type, type Static } from "@sinclair/typebox";
import { DateTime, Nullable } from "./meta.js";

/** microsoft.graph.security.alertComment: shared by incidents and alerts. */
export const AlertComment = Type.Object({
  comment: Nullable(Type.String(), { description: "The comment text." }),
  createdByDisplayName: Nullable(Type.String(), { description: "The person or app that wrote the comment." }),
  createdDateTime: DateTime({ description: "When the comment was submitted." }),
});
export type AlertComment = Static<typeof AlertComment>;

/** The most characters one comment may hold. */
export const MAX_COMMENT_LENGTH = 30_000;
