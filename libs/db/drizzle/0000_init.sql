CREATE TABLE `coupon` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`name` varchar(100) NOT NULL,
	`quantity` int unsigned NOT NULL,
	`opens_at` datetime(3) NOT NULL,
	`closes_at` datetime(3) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `coupon_id` PRIMARY KEY(`id`)
);
--> statement-breakpoint
CREATE TABLE `coupon_issue` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`coupon_id` bigint unsigned NOT NULL,
	`user_id` bigint unsigned NOT NULL,
	`event_id` char(36) NOT NULL,
	`issued_at` datetime(3) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `coupon_issue_id` PRIMARY KEY(`id`),
	CONSTRAINT `uq_coupon_issue_coupon_user` UNIQUE(`coupon_id`,`user_id`)
);
--> statement-breakpoint
ALTER TABLE `coupon_issue` ADD CONSTRAINT `coupon_issue_coupon_id_coupon_id_fk` FOREIGN KEY (`coupon_id`) REFERENCES `coupon`(`id`) ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX `ix_coupon_issue_user` ON `coupon_issue` (`user_id`);