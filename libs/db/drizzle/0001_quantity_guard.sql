CREATE TABLE `coupon_refusal` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`coupon_id` bigint unsigned NOT NULL,
	`user_id` bigint unsigned NOT NULL,
	`event_id` char(36) NOT NULL,
	`reason` varchar(32) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `coupon_refusal_id` PRIMARY KEY(`id`),
	CONSTRAINT `uq_coupon_refusal_coupon_user` UNIQUE(`coupon_id`,`user_id`)
);
--> statement-breakpoint
ALTER TABLE `coupon` ADD `issued` int unsigned DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `coupon_refusal` ADD CONSTRAINT `coupon_refusal_coupon_id_coupon_id_fk` FOREIGN KEY (`coupon_id`) REFERENCES `coupon`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Backfill: the guard starts from the rows already written (hand-written; drizzle-kit emits no data changes).
UPDATE `coupon` c SET c.`issued` = (SELECT COUNT(*) FROM `coupon_issue` i WHERE i.`coupon_id` = c.`id`);
