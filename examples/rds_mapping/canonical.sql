-- A legacy TraceTrack install with the canonical column names (spec rds_mapping.md §1), every
-- optional table present plus promotionrequest, and two columns the alias table does not know
-- ("user".phone, bag.legacy_flag: unmapped). bag.qr_id and bill.bill_id are wider than §1 writes
-- them (installs vary), so that the value_too_long rules have values to reject. Load into an
-- empty SOURCE database:
--   psql -X -v ON_ERROR_STOP=1 -d SOURCE -f examples/rds_mapping/canonical.sql
-- Row -> rule (codes of §3; expected outcome in expected.sql, fixture "canonical"):
--   user 4 '   ' missing_username; 5 70 characters value_too_long; 7 'disp1' (as 3) duplicate_username;
--        13 '' missing_username (not a duplicate of 4: an earlier rule wins); 15 as 6 (70 chars) value_too_long;
--        8 'Disp1' differs from 'disp1' (exact values); 9 unicode, tab and quotes copied exactly;
--        3 password '' and 10 NULL -> '!'; roles ' Admin', 'BILLER', 'employee', NULL -> admin, biller, dispatcher
--   bag  104 NULL qr and 105 '  ' missing_qr_id; 106 300 characters value_too_long; 107 'QR-P1' (as 101)
--        duplicate_qr_id; 111 parent 130 (a higher id: set in the second pass); 112 parent = itself, 113
--        parent 999, 114 parent 107 (rejected): NULL + orphan_reference; user_id 4 (rejected), 999: fixups;
--        types 'PARENT ', NULL + parent -> child, 'box' without parent -> parent; NULL weight/count/status
--   bill 4 NULL, 5 ' ' missing_bill_id; 6 60 characters value_too_long; 7 as 1 duplicate_bill_id; 3 created_by 999
--   bill_bag 9 bill 999 and 10 bill 4 (rejected) orphan_bill; 11 bag 999, 12 bag 104 (rejected) orphan_bag;
--        13 (1, 111) again duplicate_bill_bag; bill 2 has no bags (weight 0)
--   scan 4 NULL timestamp missing_timestamp; 5-7 parent 999 / child 105 (rejected) / user 999: fixups
--   link 5 parent 999 and 6 child NULL orphan_bag; 7 (103, 103) self_link; 8 (101, 111) again duplicate_link;
--        9 (999, 999) orphan_bag (an earlier rule than self_link); 10 user 999 fixup
--   promotionrequest 2 user 999, 3 user NULL orphan_user; 4 ' ' missing_role; 5 admin 999 fixup
--   audit_log 3 NULL action missing_action; 4 user 5 (rejected) fixup
BEGIN;
CREATE TABLE "user" (
  id serial PRIMARY KEY, username varchar(80) NOT NULL, email varchar(120),
  password_hash varchar(256), role varchar(20) DEFAULT 'employee',
  dispatch_area varchar(50), verified boolean DEFAULT false, created_at timestamp DEFAULT now(),
  phone varchar(20));
CREATE TABLE bag (
  id serial PRIMARY KEY, qr_id varchar(400), type varchar(10), name varchar(100),
  child_count integer, parent_id integer, user_id integer, dispatch_area varchar(50),
  status varchar(20), weight_kg double precision, created_at timestamp DEFAULT now(),
  legacy_flag boolean);
CREATE TABLE scan (
  id serial PRIMARY KEY, "timestamp" timestamp, parent_bag_id integer, child_bag_id integer, user_id integer);
CREATE TABLE link (
  id serial PRIMARY KEY, parent_bag_id integer, child_bag_id integer, user_id integer, created_at timestamp);
CREATE TABLE bill (
  id serial PRIMARY KEY, bill_id varchar(80), description text, parent_bag_count integer,
  status varchar(20), created_by_id integer, created_at timestamp);
CREATE TABLE bill_bag (
  id serial PRIMARY KEY, bill_id integer, bag_id integer, created_at timestamp);
CREATE TABLE audit_log (
  id serial PRIMARY KEY, "timestamp" timestamp, user_id integer, action varchar(50),
  entity_type varchar(20), entity_id integer, details text, ip_address varchar(45));
CREATE TABLE promotionrequest (
  id serial PRIMARY KEY, user_id integer, requested_role varchar(20), reason text, status varchar(20),
  admin_id integer, admin_notes text, requested_at timestamp, processed_at timestamp);

INSERT INTO "user" (id, username, email, password_hash, role, dispatch_area, verified, created_at, phone) VALUES
  (1, 'admin', 'admin@example.test', 'pbkdf2:sha256:1$a$b', ' Admin', 'hq', true, '2024-01-02 03:04:05.123456', '+234 1'),
  (2, 'biller', NULL, 'pbkdf2:sha256:2$c$d', 'BILLER', NULL, false, '2024-01-03 00:00:00', NULL),
  (3, 'disp1', 'd1@example.test', '', 'employee', 'lagos', NULL, NULL, NULL),
  (4, '   ', 'blank@example.test', 'x', 'dispatcher', NULL, true, '2024-02-01 10:00:00', NULL),
  (5, repeat('l', 70), NULL, 'x', NULL, NULL, false, NULL, NULL),
  (6, 'disp2', NULL, 'pbkdf2:sha256:6$e$f', 'Dispatcher ', 'kano', true, '2024-02-02 10:00:00', NULL),
  (7, 'disp1', 'dup@example.test', 'x', 'admin', NULL, true, '2024-02-03 10:00:00', NULL),
  (8, 'Disp1', NULL, 'x', 'biller', NULL, false, NULL, NULL),
  (9, E'émilie\t"o''neil"\\', E'e\nmail', 'x', NULL, E'area\r', NULL, '1969-12-31 23:59:59.999999', NULL),
  (10, 'ops', NULL, NULL, 'superuser', 'abuja', true, 'infinity', NULL),
  (11, 'trainee', NULL, '  ', NULL, NULL, false, '-infinity', NULL),
  (12, 'auditor', 'a@example.test', 'pbkdf2:sha256:12$g$h', 'biller', 'jos', true, '2024-03-01 00:00:00', NULL),
  (13, '', NULL, 'x', NULL, NULL, false, NULL, NULL),
  (14, 'disp3', NULL, 'x', 'DISPATCHER', 'enugu', false, '2024-03-02 00:00:00', NULL),
  (15, repeat('l', 70), NULL, 'x', NULL, NULL, false, NULL, NULL);
SELECT setval('user_id_seq', 15);

INSERT INTO bag (id, qr_id, type, name, child_count, parent_id, user_id, dispatch_area, status, weight_kg, created_at, legacy_flag) VALUES
  (101, 'QR-P1', 'parent', 'Parent one', 3, NULL, 1, 'lagos', 'completed', 30.5, '2024-06-01 07:00:00', true),
  (102, 'QR-P2', 'PARENT ', NULL, NULL, NULL, 3, NULL, NULL, NULL, '2024-06-01 07:10:00', NULL),
  (103, 'QR-P3', 'box', 'Box parent', 0, NULL, NULL, 'kano', 'pending', 0.1, NULL, false),
  (104, NULL, 'parent', 'no qr', 1, NULL, 1, NULL, NULL, 1, NULL, NULL),
  (105, '  ', 'child', 'blank qr', 0, 101, 1, NULL, NULL, 1, NULL, NULL),
  (106, repeat('q', 300), 'child', 'long qr', 0, 101, 1, NULL, NULL, 1, NULL, NULL),
  (107, 'QR-P1', 'parent', 'duplicate qr', 0, NULL, 1, NULL, NULL, 1, NULL, NULL),
  (108, 'QR-C1', 'child', 'Child one', 0, 101, 3, 'lagos', 'pending', 9.75, '2024-06-01 08:00:00', NULL),
  (109, 'QR-C2', NULL, 'Child two', NULL, 101, 4, NULL, NULL, '-0'::float8, NULL, NULL),
  (110, 'QR-C3', 'Child', E'tab\there', 0, 102, 999, NULL, 'completed', 0.30000000000000004, '1960-01-01 00:00:00', NULL),
  (111, 'QR-C4', 'child', 'Child of a later parent', 0, 130, NULL, NULL, NULL, 12.25, NULL, NULL),
  (112, 'QR-C5', 'child', 'Its own parent', 0, 112, 1, NULL, NULL, 2.5, NULL, NULL),
  (113, 'QR-C6', 'child', 'Lost parent', 0, 999, 1, NULL, NULL, 2.5, NULL, NULL),
  (114, 'QR-C7', 'child', 'Rejected parent', 0, 107, 1, NULL, NULL, 2.5, NULL, NULL),
  (115, 'qr-p1', 'child', 'lower case qr', 0, 101, 1, NULL, NULL, 1e-300, NULL, NULL),
  (130, 'QR-P30', 'parent', 'A later parent', 1, NULL, 6, 'jos', NULL, 40, '2024-06-02 00:00:00', NULL);
SELECT setval('bag_id_seq', 130);

INSERT INTO bill (id, bill_id, description, parent_bag_count, status, created_by_id, created_at) VALUES
  (1, 'BILL-0001', 'Consignment', 2, 'completed', 2, '2024-06-10 10:00:00'),
  (2, 'BILL-0002', NULL, NULL, NULL, 12, NULL),
  (3, 'BILL-0003', E'with\nnewline', 1, 'new', 999, '2024-06-12 10:00:00'),
  (4, NULL, 'no bill id', 1, NULL, 2, NULL),
  (5, ' ', 'blank bill id', 1, NULL, 2, NULL),
  (6, repeat('B', 60), 'long bill id', 1, NULL, 2, NULL),
  (7, 'BILL-0001', 'duplicate', 1, NULL, 2, NULL);
SELECT setval('bill_id_seq', 7);

INSERT INTO bill_bag (id, bill_id, bag_id, created_at) VALUES
  (1, 1, 101, '2024-06-10 11:00:00'), (2, 1, 108, NULL), (3, 1, 111, NULL), (4, 3, 130, NULL),
  (5, 3, 110, NULL), (6, 3, 109, NULL), (7, 1, 115, NULL), (8, 3, 102, NULL),
  (9, 999, 101, NULL), (10, 4, 101, NULL), (11, 1, 999, NULL), (12, 1, 104, NULL), (13, 1, 111, NULL);
SELECT setval('bill_bag_id_seq', 13);

INSERT INTO scan (id, "timestamp", parent_bag_id, child_bag_id, user_id) VALUES
  (1, '2024-06-01 07:30:00', 101, 108, 3), (2, '2024-06-01 07:31:00.000001', 101, NULL, NULL),
  (3, 'infinity', NULL, 110, 6), (4, NULL, 101, 108, 3), (5, '2024-06-02 00:00:00', 999, 108, 3),
  (6, '2024-06-02 00:01:00', 101, 105, 3), (7, '1900-01-01 00:00:00', 102, 109, 999),
  (8, '2024-06-02 00:02:00', 130, 111, 4);
SELECT setval('scan_id_seq', 8);

INSERT INTO link (id, parent_bag_id, child_bag_id, user_id, created_at) VALUES
  (1, 101, 108, 3, '2024-06-01 08:00:00'), (2, 101, 109, NULL, NULL), (3, 102, 110, 6, NULL), (4, 130, 111, 3, NULL),
  (5, 999, 108, 3, NULL), (6, 101, NULL, 3, NULL), (7, 103, 103, 3, NULL), (8, 101, 108, 6, NULL),
  (9, 999, 999, NULL, NULL), (10, 101, 115, 999, NULL);
SELECT setval('link_id_seq', 10);

INSERT INTO promotionrequest (id, user_id, requested_role, reason, status, admin_id, admin_notes, requested_at, processed_at) VALUES
  (1, 3, 'biller', 'more work', NULL, 1, NULL, '2024-07-01 00:00:00', NULL),
  (2, 999, 'admin', NULL, 'pending', 1, NULL, NULL, NULL),
  (3, NULL, 'admin', NULL, NULL, NULL, NULL, NULL, NULL),
  (4, 6, ' ', NULL, NULL, NULL, NULL, NULL, NULL),
  (5, 6, 'admin', 'please', 'rejected', 999, 'no', '2024-07-02 00:00:00', '2024-07-03 00:00:00');
SELECT setval('promotionrequest_id_seq', 5);

INSERT INTO audit_log (id, "timestamp", user_id, action, entity_type, entity_id, details, ip_address) VALUES
  (1, '2024-06-01 07:31:00', 1, 'login', NULL, NULL, NULL, '10.0.0.1'),
  (2, NULL, NULL, 'scan_parent', 'bag', 101, 'via app', NULL),
  (3, '2024-06-01 07:32:00', 3, NULL, 'bag', 108, NULL, '10.0.0.3'),
  (4, '2024-06-01 07:33:00', 5, 'create_bill', 'bill', 1, E'quote '' and backslash \\', '10.0.0.4');
SELECT setval('audit_log_id_seq', 4);
COMMIT;
