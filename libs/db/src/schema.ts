import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  char,
  datetime,
  index,
  int,
  mysqlTable,
  uniqueIndex,
  varchar,
} from 'drizzle-orm/mysql-core';

/** A coupon event: a fixed quantity, open between opensAt and closesAt. */
export const coupon = mysqlTable('coupon', {
  id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
  name: varchar('name', { length: 100 }).notNull(),
  quantity: int('quantity', { unsigned: true }).notNull(),
  /**
   * Rows ever written to coupon_issue for this coupon: the quantity guard (guard.ts) advances it in
   * the transaction that inserts them, under SELECT … FOR UPDATE, and never past quantity. A row
   * deleted by hand does not give its slot back.
   */
  issued: int('issued', { unsigned: true }).notNull().default(0),
  opensAt: datetime('opens_at', { mode: 'date', fsp: 3 }).notNull(),
  closesAt: datetime('closes_at', { mode: 'date', fsp: 3 }).notNull(),
  /** The operator's kill switch: the gate's meta carries it too (a rebuilt gate takes it from here). */
  paused: boolean('paused').notNull().default(false),
  createdAt: datetime('created_at', { mode: 'date', fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`),
});

/** One issued coupon. UNIQUE(coupon_id, user_id) is the last line of defence against duplicates. */
export const couponIssue = mysqlTable(
  'coupon_issue',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    couponId: bigint('coupon_id', { mode: 'number', unsigned: true })
      .notNull()
      .references(() => coupon.id),
    userId: bigint('user_id', { mode: 'number', unsigned: true }).notNull(),
    eventId: char('event_id', { length: 36 }).notNull(),
    /** When the gate admitted the user (from the event). */
    issuedAt: datetime('issued_at', { mode: 'date', fsp: 3 }).notNull(),
    /** When the row was written; createdAt − issuedAt is the event-to-row latency. */
    createdAt: datetime('created_at', { mode: 'date', fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`),
  },
  (t) => [
    uniqueIndex('uq_coupon_issue_coupon_user').on(t.couponId, t.userId),
    index('ix_coupon_issue_user').on(t.userId),
  ],
);

export type Coupon = typeof coupon.$inferSelect;
export type CouponIssue = typeof couponIssue.$inferInsert;

/**
 * An admitted user whose row the quantity guard refused because the coupon's quantity was reached
 * (the Redis gate admitted more users than the quantity: a failover that lost writes, an operator's
 * mistake). One per (coupon, user): the status endpoint answers REFUSED, reconcile leaves them alone.
 * A row in coupon_issue for the same pair wins over a refusal.
 */
export const couponRefusal = mysqlTable(
  'coupon_refusal',
  {
    id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
    couponId: bigint('coupon_id', { mode: 'number', unsigned: true })
      .notNull()
      .references(() => coupon.id),
    userId: bigint('user_id', { mode: 'number', unsigned: true }).notNull(),
    eventId: char('event_id', { length: 36 }).notNull(),
    /** A DLT reason (contracts' DLT_REASONS); today always OVER_QUANTITY. */
    reason: varchar('reason', { length: 32 }).notNull(),
    createdAt: datetime('created_at', { mode: 'date', fsp: 3 }).notNull().default(sql`CURRENT_TIMESTAMP(3)`),
  },
  (t) => [uniqueIndex('uq_coupon_refusal_coupon_user').on(t.couponId, t.userId)],
);
