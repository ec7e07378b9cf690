// Topic names are part of the wire contract between services and of the data already in Kafka.
// Renaming one needs a migration plan: dual-publish, move the consumer group, then retire the old name.
export const TOPICS = {
  issued: 'coupon.issued',
  issuedDlt: 'coupon.issued.dlt',
} as const;

/** Consumer group of the persister. Renaming it loses committed offsets (the group restarts from its reset policy). */
export const PERSISTER_GROUP = 'coupon-persister';

export interface TopicNames {
  issued: string;
  issuedDlt: string;
  persisterGroup: string;
}

/**
 * Names under an optional prefix (KAFKA_TOPIC_PREFIX), so that tests or a second environment can
 * share a broker without reading each other's events. Production runs with no prefix.
 */
export function topicNames(prefix = ''): TopicNames {
  return {
    issued: prefix + TOPICS.issued,
    issuedDlt: prefix + TOPICS.issuedDlt,
    persisterGroup: prefix + PERSISTER_GROUP,
  };
}

/** Headers every DLT record carries, so an operator can see why it is there and where it came from. */
export const DLT_HEADERS = {
  reason: 'x-dlt-reason',
  error: 'x-dlt-error',
  attempts: 'x-dlt-attempts',
  originTopic: 'x-origin-topic',
  originPartition: 'x-origin-partition',
  originOffset: 'x-origin-offset',
  firstFailureAt: 'x-first-failure-at',
  couponId: 'x-coupon-id',
} as const;

/**
 * Header the DLT command puts on every event it re-publishes to the main topic (value: dlt/partition/offset).
 * The persister uses it to tell a replay from a redelivery.
 */
export const REPLAYED_FROM_HEADER = 'x-replayed-from';

/**
 * Why an event went to the DLT. Closed set: the DLT command filters on it.
 * SCHEMA_INVALID: not JSON or not the event schema. NON_RETRYABLE: the database refused the row's
 * data (a constraint or a value; `classify` in libs/db). Every other database failure is retried in
 * place, never sent here (docs/decisions/0015-unlisted-db-errors-retry.md).
 * OVER_QUANTITY: MySQL's quantity guard refused the row because the coupon's quantity was reached
 * (the Redis gate admitted too many). Such an entry holds no slot, and replaying it makes no row:
 * the guard refuses it again.
 */
export const DLT_REASONS = ['SCHEMA_INVALID', 'NON_RETRYABLE', 'OVER_QUANTITY'] as const;
export type DltReason = (typeof DLT_REASONS)[number];
