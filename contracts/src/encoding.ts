import { type CouponIssuedEvent, couponIssuedEvent, eventKey } from './events.js';
import { parseId } from './ids.js';
import { DLT_HEADERS, type DltReason, REPLAYED_FROM_HEADER } from './topics.js';

// The Kafka encodings of the issued event and of its DLT records, written once: the issuer and the
// ops command produce with them, the persister, the gate's rebuild and the ops command read with them.
// Header names are part of the data already in Kafka: renaming one needs a migration plan.

/** Headers every event on TOPICS.issued carries (the encoder spells them as literals, for speed). */
export const EVENT_HEADERS = { id: 'event-id', version: 'event-version' } as const;

/** A record's headers as kafkajs gives them (IHeaders), without depending on kafkajs here. */
export type RecordHeaders = Readonly<
  Record<string, Buffer | string | ReadonlyArray<Buffer | string> | undefined>
>;

export interface EncodedEvent {
  key: string;
  value: string;
  headers: { 'event-id': string; 'event-version': string };
}

/** Key (the user id: one sale spreads over every partition), JSON value, and the event headers. */
export function encodeIssuedEvent(event: CouponIssuedEvent): EncodedEvent {
  // On the issuer's hot path: one object, one JSON.stringify, nothing else.
  return {
    key: eventKey(event),
    value: JSON.stringify(event),
    headers: { 'event-id': event.eventId, 'event-version': String(event.v) },
  };
}

export type DecodedEvent =
  | { ok: true; event: CouponIssuedEvent }
  /** Not JSON or not the current schema; the ids are read loosely from the JSON where it has them. */
  | { ok: false; error: string; couponId?: number; userId?: number };

/** A record's value read with the current event schema. Never throws. */
export function decodeIssuedEvent(value: Buffer | string | null | undefined): DecodedEvent {
  let json: unknown;
  try {
    json = JSON.parse(value?.toString() ?? '');
  } catch {
    return { ok: false, error: 'value is not JSON' };
  }
  const parsed = couponIssuedEvent.safeParse(json);
  if (parsed.success) return { ok: true, event: parsed.data };
  const loose = (json ?? {}) as { couponId?: unknown; userId?: unknown };
  return {
    ok: false,
    error: parsed.error.issues
      .map((i) => `${i.path.join('.')}: ${i.message}`)
      .join('; ')
      .slice(0, 500),
    couponId: positiveId(loose.couponId),
    userId: positiveId(loose.userId),
  };
}

function positiveId(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

/** A record header as a string (the first value when repeated). */
export function readHeader(headers: RecordHeaders | undefined, name: string): string | undefined {
  const h = headers?.[name];
  const v = Array.isArray(h) ? h[0] : (h as Buffer | string | undefined);
  return v === undefined ? undefined : v.toString();
}

/** Why a record is in the DLT and where it came from. */
export interface DltInfo {
  reason: DltReason;
  error: string;
  attempts: number;
  origin: { topic: string; partition: number; offset: string };
  firstFailureAt: Date;
  couponId?: number;
}

/** The headers of a DLT record (its key and value are the original bytes). */
export function dltHeaders(info: DltInfo): Record<string, string> {
  const h: Record<string, string> = {
    [DLT_HEADERS.reason]: info.reason,
    [DLT_HEADERS.error]: info.error.slice(0, 1_000),
    [DLT_HEADERS.attempts]: String(info.attempts),
    [DLT_HEADERS.originTopic]: info.origin.topic,
    [DLT_HEADERS.originPartition]: String(info.origin.partition),
    [DLT_HEADERS.originOffset]: info.origin.offset,
    [DLT_HEADERS.firstFailureAt]: info.firstFailureAt.toISOString(),
  };
  if (info.couponId) h[DLT_HEADERS.couponId] = String(info.couponId);
  return h;
}

/** A DLT record's headers as read back: each undefined where missing or malformed. */
export interface DltHeaderValues {
  reason: string | undefined;
  error: string | undefined;
  attempts: number | undefined;
  firstFailureAt: string | undefined;
  couponId: number | undefined;
}

export function readDltHeaders(headers: RecordHeaders | undefined): DltHeaderValues {
  const attempts = readHeader(headers, DLT_HEADERS.attempts);
  return {
    reason: readHeader(headers, DLT_HEADERS.reason),
    error: readHeader(headers, DLT_HEADERS.error),
    attempts: attempts !== undefined && Number.isFinite(Number(attempts)) ? Number(attempts) : undefined,
    firstFailureAt: readHeader(headers, DLT_HEADERS.firstFailureAt),
    couponId: parseId(readHeader(headers, DLT_HEADERS.couponId)),
  };
}

/**
 * Headers of an event the DLT command re-publishes: where it came from (REPLAYED_FROM_HEADER, which
 * tells the persister a replay from a redelivery) and, when the value is a valid event, its headers.
 */
export function replayHeaders(
  from: { topic: string; partition: number; offset: string },
  event: CouponIssuedEvent | undefined,
): Record<string, string> {
  const h: Record<string, string> = {
    [REPLAYED_FROM_HEADER]: `${from.topic}/${from.partition}/${from.offset}`,
  };
  if (event) Object.assign(h, encodeIssuedEvent(event).headers);
  return h;
}

/** True when the DLT command re-published this record. */
export function isReplayed(headers: RecordHeaders | undefined): boolean {
  return headers?.[REPLAYED_FROM_HEADER] !== undefined;
}
