-- The database and the user of the services, created once by each runner: infra/local/stack
-- (mariadb), stack.d/mariadb-ha.sh (the Galera cluster's seed), infra/compose.yaml (the MySQL
-- image's /docker-entrypoint-initdb.d). The user may do everything: tests create extra databases.
DROP USER IF EXISTS ''@'localhost';
CREATE DATABASE IF NOT EXISTS coupon CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'coupon'@'%'         IDENTIFIED BY 'coupon';
CREATE USER IF NOT EXISTS 'coupon'@'localhost' IDENTIFIED BY 'coupon';
CREATE USER IF NOT EXISTS 'coupon'@'127.0.0.1' IDENTIFIED BY 'coupon';
GRANT ALL PRIVILEGES ON *.* TO 'coupon'@'%'         WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'coupon'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'coupon'@'127.0.0.1' WITH GRANT OPTION;
FLUSH PRIVILEGES;
