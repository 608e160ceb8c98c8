-- A legacy TraceTrack install with the seed's alternative column names (spec rds_mapping.md §1's
-- alias table): "user".name/password/area, bag.qr_code/bag_name/children_count/parent_bag_id/
-- owner_id/area/weight, scan.created_at/parent_id/child_id/scanner_id. Only the required tables
-- exist (no link, bill, bill_bag, audit_log, promotionrequest); optional columns are missing
-- ("user".email and created_at, bag.created_at and status); "user".verified is an integer and
-- bag.weight a numeric (cast to the target types); "user".last_login and bag.color match no alias
-- (unmapped). Load into an empty SOURCE database:
--   psql -X -v ON_ERROR_STOP=1 -d SOURCE -f examples/rds_mapping/alternative.sql
-- Row -> rule (expected.sql, fixture "alternative"):
--   user 3 NULL name missing_username; 5 'Ann' (as 1) duplicate_username; 6 'ann' kept (exact values);
--        verified 1/0/NULL -> true/false/false; password NULL or ' ' -> '!'; no role column -> 'dispatcher'
--   bag  204 NULL and 205 '' qr_code missing_qr_id; 206 'QR-A' (as 201) duplicate_qr_id; 203 parent 210
--        (higher id, second pass); 207 parent 206 (rejected) and 208 owner 3 (rejected), 209 owner 77: fixups;
--        no type column: child when parent_bag_id is set, else parent; weight 12.345 -> 12.345
--   scan 3 NULL created_at missing_timestamp; 4 parent_id 206 (rejected), child_id 999, scanner_id 3: fixups
BEGIN;
CREATE TABLE "user" (
  id serial PRIMARY KEY, name varchar(80), password varchar(256), area varchar(50), verified integer,
  last_login timestamp);
CREATE TABLE bag (
  id serial PRIMARY KEY, qr_code varchar(255), bag_name varchar(100), children_count integer,
  parent_bag_id integer, owner_id integer, area varchar(50), weight numeric(8,3), color text);
CREATE TABLE scan (
  id serial PRIMARY KEY, created_at timestamp, parent_id integer, child_id integer, scanner_id integer);

INSERT INTO "user" (id, name, password, area, verified, last_login) VALUES
  (1, 'Ann', 'pbkdf2:sha256:1$x$y', 'lagos', 1, '2024-05-01 00:00:00'),
  (2, 'Bola', NULL, NULL, 0, NULL),
  (3, NULL, 'x', NULL, 1, NULL),
  (4, 'Chidi', ' ', 'kano', NULL, NULL),
  (5, 'Ann', 'x', NULL, 1, NULL),
  (6, 'ann', 'x', NULL, 0, NULL);
SELECT setval('user_id_seq', 6);

INSERT INTO bag (id, qr_code, bag_name, children_count, parent_bag_id, owner_id, area, weight, color) VALUES
  (201, 'QR-A', 'Parent A', 2, NULL, 1, 'lagos', 30.5, 'red'),
  (202, 'QR-B', NULL, NULL, 201, 2, NULL, NULL, NULL),
  (203, 'QR-C', 'Child of a later parent', 0, 210, NULL, NULL, 12.345, NULL),
  (204, NULL, 'no qr', 0, NULL, 1, NULL, 1, NULL),
  (205, '', 'empty qr', 0, NULL, 1, NULL, 1, NULL),
  (206, 'QR-A', 'duplicate qr', 0, NULL, 1, NULL, 1, NULL),
  (207, 'QR-D', 'Rejected parent', 0, 206, 1, NULL, 2, NULL),
  (208, 'QR-E', 'Rejected owner', 0, 201, 3, NULL, 2, NULL),
  (209, 'QR-F', 'Unknown owner', 0, 201, 77, NULL, 2, NULL),
  (210, 'QR-G', 'A later parent', 1, NULL, 6, 'kano', 40, NULL);
SELECT setval('bag_id_seq', 210);

INSERT INTO scan (id, created_at, parent_id, child_id, scanner_id) VALUES
  (1, '2024-06-01 07:30:00', 201, 202, 1), (2, '2024-06-01 07:31:00', 210, 203, NULL),
  (3, NULL, 201, 202, 1), (4, '2024-06-01 07:32:00', 206, 999, 3);
SELECT setval('scan_id_seq', 4);
COMMIT;
