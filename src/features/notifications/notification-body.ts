/**
 * The body of a POST of notifications: Graph's `value` envelope of changeNotification objects
 * (docs/notifications.md, "What a notification looks like"), written as UTF-8 bytes.
 *
 * The bytes are the same as serializing the objects and encoding the text (a test checks it byte for
 * byte), but they are copied together from parts encoded once: the subscription's fields once per
 * POST, each feed entry's once for every subscription it goes to (the feed cache shares entries
 * between them), and each id's sequence part as hexadecimal digits written in place. With a hundred
 * subscriptions on one tenant, joining strings and encoding the mebibyte of text each POST carries
 * cost about 3 µs a notification, more than the rest of a delivery; this costs under 1 µs.
 */
import { createHash } from "node:crypto";
import type { FeedEntry } from "../../store/feed.js";
import type { SubscriptionTable } from "../../store/subscriptions.js";
import type { EncryptedContent } from "./encryption.js";

/**
 * A notification's id: the same for the same subscription and feed entry on every attempt and node, so
 * a receiver can drop a duplicate. UUID-shaped: 64 bits of the subscription id's SHA-256, then the feed
 * sequence number in hexadecimal (64 bits hold every safe integer). One hash per subscription rather than
 * per notification: at 100,000 notifications a second a hash each was a sixth of a core.
 */
export function notificationId(subscriptionId: string, seq: number): string {
  const suffix = Buffer.allocUnsafe(SEQ_LENGTH);
  writeSeq(suffix, 0, seq);
  return idPrefix(subscriptionId) + suffix.toString("latin1");
}

/** The subscription's part of its notifications' ids: `xxxxxxxx-xxxx-xxxx-`. */
function idPrefix(subscriptionId: string): string {
  const h = createHash("sha256").update(subscriptionId).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-`;
}

/** The feed entry's part of an id, `xxxx-xxxxxxxxxxxx`: the sequence number as 16 hexadecimal digits. */
const SEQ_LENGTH = 17;
const HEX = Buffer.from("0123456789abcdef", "latin1");
const DASH = 0x2d;

/** Writes the sequence part at `at`. Exact for every safe integer (the divisions are by powers of two). */
function writeSeq(out: Buffer, at: number, seq: number): void {
  let rest = seq;
  for (let i = SEQ_LENGTH - 1; i >= 0; i--) {
    if (i === 4) {
      out[at + i] = DASH;
      continue;
    }
    out[at + i] = HEX[rest % 16]!;
    rest = Math.floor(rest / 16);
  }
}

/** A feed entry's two parts of its notifications' JSON, encoded once per entry. */
const entryParts = new WeakMap<FeedEntry, readonly [Buffer, Buffer]>();

function partsOf(e: FeedEntry): readonly [Buffer, Buffer] {
  let parts = entryParts.get(e);
  if (!parts) {
    const path = JSON.stringify(`security/${e.entityType === "incident" ? "incidents" : "alerts_v2"}/${e.entityId}`);
    const type = e.entityType === "incident" ? "#microsoft.graph.security.incident" : "#microsoft.graph.security.alert";
    parts = [
      Buffer.from(`"changeType":${JSON.stringify(e.changeType)},"resource":${path},`, "utf8"),
      Buffer.from(`"resourceData":{"@odata.type":"${type}","@odata.id":${path},"id":${JSON.stringify(e.entityId)}}`, "utf8"),
    ];
    entryParts.set(e, parts);
  }
  return parts;
}

const OPEN = Buffer.from('{"value":[', "latin1");
const COMMA = 0x2c;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;

export interface NotificationBody {
  /** The body, UTF-8. */
  bytes: Buffer;
  /** How many of the entries it holds (the first ones). */
  count: number;
}

/**
 * The body of a POST to `sub` of the notifications of `entries`, as many of them as fit in `maxBytes`
 * (at least one), each with its encrypted resource data if `encrypted` has it, and the
 * `validationTokens` of rich notifications when `validationToken` is given.
 */
export function notificationBody(
  sub: SubscriptionTable,
  entries: readonly FeedEntry[],
  opts: { encrypted?: ReadonlyMap<number, EncryptedContent>; validationToken?: string | null; maxBytes: number },
): NotificationBody {
  // The id's prefix is hexadecimal digits and dashes.
  const head = Buffer.from(`{"id":"${idPrefix(sub.id)}`, "latin1");
  const fields = Buffer.from(`","subscriptionId":${JSON.stringify(sub.id)},"subscriptionExpirationDateTime":${JSON.stringify(sub.expires_at)},`, "utf8");
  const owner = Buffer.from(`"clientState":${JSON.stringify(sub.client_state)},"tenantId":${JSON.stringify(sub.tenant_id)},`, "utf8");
  const tokens = opts.validationToken ? Buffer.from(`,"validationTokens":${JSON.stringify([opts.validationToken])}`, "utf8") : null;
  const fixed = head.length + SEQ_LENGTH + fields.length + owner.length;
  // Each notification's pieces, as measured for the bound, are the ones written. The encrypted
  // content's member closes its notification in place of the plain closing brace.
  const pieces: { seq: number; first: Buffer; second: Buffer; tail: Buffer | null }[] = [];
  let size = OPEN.length + 2 + (tokens?.length ?? 0);
  for (const e of entries) {
    const [first, second] = partsOf(e);
    const content = opts.encrypted?.get(e.seq);
    const tail = content ? Buffer.from(`,"encryptedContent":${JSON.stringify(content)}}`, "utf8") : null;
    const length = (pieces.length > 0 ? 1 : 0) + fixed + first.length + second.length + (tail?.length ?? 1);
    if (pieces.length > 0 && size + length > opts.maxBytes) break;
    size += length;
    pieces.push({ seq: e.seq, first, second, tail });
  }
  const out = Buffer.allocUnsafe(size);
  out.set(OPEN, 0);
  let at = OPEN.length;
  for (const [i, { seq, first, second, tail }] of pieces.entries()) {
    if (i > 0) out[at++] = COMMA;
    out.set(head, at);
    at += head.length;
    writeSeq(out, at, seq);
    at += SEQ_LENGTH;
    out.set(fields, at);
    at += fields.length;
    out.set(first, at);
    at += first.length;
    out.set(owner, at);
    at += owner.length;
    out.set(second, at);
    at += second.length;
    if (tail) {
      out.set(tail, at);
      at += tail.length;
    } else out[at++] = CLOSE_OBJECT;
  }
  out[at++] = CLOSE_ARRAY;
  if (tokens) {
    out.set(tokens, at);
    at += tokens.length;
  }
  out[at++] = CLOSE_OBJECT;
  return { bytes: out, count: pieces.length };
}
