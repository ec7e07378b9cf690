import { sql } from 'drizzle-orm';
import { bigint, char, datetime, index, int, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';

/** A coupon event: a fixed quantity, open between opensAt and closesAt. */
export const coupon = mysqlTable('coupon', {
  id: bigint('id', { mode: 'number', unsigned: true }).autoincrement().primaryKey(),
  name: varchar('name', { length: 100 }).notNull(),
  quantity: int('quantity', { unsigned: true }).notNull(),
  opensAt: datetime('opens_at', { mode: 'date', fsp: 3 }).notNull(),
  closesAt: datetime('closes_at', { mode: 'date', fsp: 3 }).notNull(),
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
