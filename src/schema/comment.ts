import { Type, type Static } from "@sinclair/typebox";
import { DateTime, Nullable } from "./meta.js";
import { MAX_COMMENTS, MAX_COMMENTS_TOTAL_LENGTH, MAX_TEXT_LENGTH } from "./limits.js";

/** microsoft.graph.security.alertComment: shared by incidents and alerts. */
export const AlertComment = Type.Object({
  comment: Nullable(Type.String(), { description: "The comment text." }),
  createdByDisplayName: Nullable(Type.String(), { description: "The person or app that wrote the comment." }),
  createdDateTime: DateTime({ description: "When the comment was submitted." }),
});
export type AlertComment = Static<typeof AlertComment>;

/** The most characters one comment may hold. */
export const MAX_COMMENT_LENGTH = MAX_TEXT_LENGTH;

/** Characters a comment collection holds, as counted against MAX_COMMENTS_TOTAL_LENGTH. */
export function commentsLength(comments: readonly AlertComment[]): number {
  return comments.reduce((n, c) => n + (c.comment?.length ?? 0) + (c.createdByDisplayName?.length ?? 0), 0);
}

/**
 * Why `added` cannot join `existing` on one entity (`entity` names it, "Incident 42"), or null when it
 * can: an entity's comments are bounded in number and in total size, or one client could grow a
 * document every listing and every export reads without end.
 */
export function commentRefusal(existing: readonly AlertComment[], added: AlertComment, entity: string): string | null {
  if (existing.length >= MAX_COMMENTS) return `${entity} already holds ${existing.length} comments, the most one may hold (${MAX_COMMENTS}).`;
  const total = commentsLength(existing) + commentsLength([added]);
  if (total > MAX_COMMENTS_TOTAL_LENGTH)
    return `${entity}'s comments would hold ${total} characters; they may hold at most ${MAX_COMMENTS_TOTAL_LENGTH} together.`;
  return null;
}
