-- examples/rds_mapping/generate.sql — a large legacy TraceTrack database for scripts/rds_mapping.lua
-- (spec rds_mapping.md §1, canonical column names, plus the unmapped bag.legacy_flag).
-- Deterministic (no random()): every value is a function of the row number g.
-- Scale: psql variable "scale" (default 1), or the environment variable EXAMPLES_SCALE (for
-- mighost sandbox, which cannot pass -v):
--   psql -X -v ON_ERROR_STOP=1 -v scale=0.1 -d SOURCE -f examples/rds_mapping/generate.sql
--   EXAMPLES_SCALE=0.01 mighost sandbox --fixture examples/rds_mapping/generate.sql
-- At scale 1: 200 000 users, 1 000 000 bags, 1 000 000 scans, 300 000 links, 50 000 bills,
-- 500 000 bill_bag rows, 50 000 audit_log rows. Bags come in groups of 10 (a parent, then its nine
-- children, so a parent mostly precedes its children in the same batch).
-- Anomalies (each rule of §3 fires; the checks compute the exact expected result):
--   user g%997=5 blank username (missing_username), g%1999=7 70 characters (value_too_long), g%500=0
--        the username of g-1 (duplicate_username); roles mixed case, 'employee', NULL; every 100th password NULL
--   bag  g%3001=9 NULL qr (missing_qr_id), g%4001=13 300 characters (value_too_long), g%2000=4 the qr of
--        g-1 (duplicate_qr_id); g%1000=5 parent = the next group's parent (a higher id: second pass),
--        g%5000=6 parent 2^31-1 (dangling), g%7000=7 parent = itself; user_id of a rejected user: fixups
--   scan g%1000=3 NULL timestamp; g%777=1 dangling parent, g%555=2 dangling child, g%333=3 dangling user
--   link g%1000=0 the (parent, child) of g-1 (duplicate_link), g%1500=7 parent = child (self_link),
--        g%2500=9 dangling parent (orphan_bag)
--   bill g%1500=11 NULL bill_id, g%1000=0 the bill_id of g-1 (duplicate_bill_id)
--   bill_bag g%1000=0 the pair of g-1 (duplicate_bill_bag), g%3000=1 dangling bill (orphan_bill),
--        g%3500=2 dangling bag (orphan_bag)
--   audit_log g%400=1 NULL action (missing_action), g%300=2 dangling user (fixup)
\if :{?scale}
\else
  \getenv scale EXAMPLES_SCALE
\endif
\if :{?scale}
\else
  \set scale 1
\endif
SELECT greatest(10, round(200000 * :scale))::int AS n_users, greatest(100, round(1000000 * :scale))::int AS n_bags,
       greatest(10, round(1000000 * :scale))::int AS n_scans, greatest(10, round(300000 * :scale))::int AS n_links,
       greatest(10, round(50000 * :scale))::int AS n_bills, greatest(10, round(500000 * :scale))::int AS n_bill_bags,
       greatest(10, round(50000 * :scale))::int AS n_audit \gset
\echo rds_mapping generator: :n_users users, :n_bags bags, :n_scans scans, :n_links links, :n_bills bills, :n_bill_bags bill_bag, :n_audit audit_log

BEGIN;
CREATE TABLE "user" (
  id serial, username varchar(80) NOT NULL, email varchar(120),
  password_hash varchar(256), role varchar(20) DEFAULT 'employee',
  dispatch_area varchar(50), verified boolean DEFAULT false, created_at timestamp DEFAULT now());
CREATE TABLE bag (
  id serial, qr_id varchar(400), type varchar(10), name varchar(100),
  child_count integer, parent_id integer, user_id integer, dispatch_area varchar(50),
  status varchar(20), weight_kg double precision, created_at timestamp DEFAULT now(), legacy_flag boolean);
CREATE TABLE scan (
  id serial, "timestamp" timestamp, parent_bag_id integer, child_bag_id integer, user_id integer);
CREATE TABLE link (
  id serial, parent_bag_id integer, child_bag_id integer, user_id integer, created_at timestamp);
CREATE TABLE bill (
  id serial, bill_id varchar(50), description text, parent_bag_count integer,
  status varchar(20), created_by_id integer, created_at timestamp);
CREATE TABLE bill_bag (
  id serial, bill_id integer, bag_id integer, created_at timestamp);
CREATE TABLE audit_log (
  id serial, "timestamp" timestamp, user_id integer, action varchar(50),
  entity_type varchar(20), entity_id integer, details text, ip_address varchar(45));

INSERT INTO "user" (id, username, email, password_hash, role, dispatch_area, verified, created_at)
SELECT g,
       CASE WHEN g % 997 = 5 THEN '  ' WHEN g % 1999 = 7 THEN repeat('u', 70) WHEN g % 500 = 0 THEN 'user' || (g - 1)
            ELSE 'user' || g END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'user' || g || '@example.test' END,
       CASE WHEN g % 100 = 0 THEN NULL ELSE 'pbkdf2:sha256:260000$' || md5(g::text) END,
       (ARRAY['admin', 'Biller ', 'dispatcher', NULL, 'employee', 'DISPATCHER'])[1 + g % 6],
       (ARRAY['lagos', 'kano', 'abuja', NULL])[1 + g % 4],
       CASE WHEN g % 5 = 0 THEN NULL ELSE g % 2 = 0 END,
       timestamp '2023-01-01 00:00:00' + g * interval '17 minutes 3.000001 seconds'
FROM generate_series(1, :n_users) g;

INSERT INTO bag (id, qr_id, type, name, child_count, parent_id, user_id, dispatch_area, status, weight_kg, created_at, legacy_flag)
SELECT g,
       CASE WHEN g % 3001 = 9 THEN NULL WHEN g % 4001 = 13 THEN repeat('q', 300) WHEN g % 2000 = 4 THEN 'QR' || (g - 1)
            ELSE 'QR' || g END,
       CASE WHEN g % 10 = 1 THEN (ARRAY['parent', 'Parent', NULL])[1 + g % 3] ELSE (ARRAY['child', 'CHILD ', NULL, 'box'])[1 + g % 4] END,
       CASE WHEN g % 7 = 0 THEN NULL ELSE 'bag ' || g END,
       CASE WHEN g % 10 = 1 THEN 9 WHEN g % 11 = 0 THEN NULL ELSE 0 END,
       CASE WHEN g % 10 = 1 THEN NULL WHEN g % 5000 = 6 THEN 2147483647 WHEN g % 7000 = 7 THEN g
            WHEN g % 1000 = 5 THEN (g - 1) / 10 * 10 + 11 ELSE (g - 1) / 10 * 10 + 1 END,
       CASE WHEN g % 13 = 0 THEN NULL ELSE 1 + g % :n_users END,
       (ARRAY['lagos', 'kano', 'abuja', NULL])[1 + g % 4],
       (ARRAY['pending', 'completed', NULL])[1 + g % 3],
       CASE WHEN g % 17 = 0 THEN NULL ELSE (g % 400) / 8.0 + 0.1 END,
       timestamp '2024-01-01 00:00:00' + g * interval '31 seconds',
       g % 2 = 0
FROM generate_series(1, :n_bags) g;

INSERT INTO scan (id, "timestamp", parent_bag_id, child_bag_id, user_id)
SELECT g,
       CASE WHEN g % 1000 = 3 THEN NULL ELSE timestamp '2024-01-01 00:00:00' + g * interval '29.5 seconds' END,
       CASE WHEN g % 777 = 1 THEN 2147483646 WHEN g % 4 = 0 THEN NULL ELSE (g * 7) % :n_bags / 10 * 10 + 1 END,
       CASE WHEN g % 555 = 2 THEN 2147483646 WHEN g % 4 = 1 THEN NULL ELSE 2 + (g * 13) % :n_bags / 10 * 10 END,
       CASE WHEN g % 333 = 3 THEN 2147483646 WHEN g % 9 = 0 THEN NULL ELSE 1 + (g * 3) % :n_users END
FROM generate_series(1, :n_scans) g;

-- link g: the (g - 1) % 9 + 1-th child of group (g - 1) / 9, with its parent
INSERT INTO link (id, parent_bag_id, child_bag_id, user_id, created_at)
SELECT g,
       CASE WHEN g % 2500 = 9 THEN 2147483646 WHEN g % 1500 = 7 THEN c ELSE p END,
       c, CASE WHEN g % 8 = 0 THEN NULL ELSE 1 + g % :n_users END,
       timestamp '2024-01-01 00:00:00' + g * interval '41 seconds'
FROM (SELECT g, h / 9 * 10 + 1 AS p, h / 9 * 10 + 2 + h % 9 AS c
        FROM (SELECT g, CASE WHEN g % 1000 = 0 THEN g - 2 ELSE g - 1 END % (:n_bags / 10 * 9) AS h
                FROM generate_series(1, :n_links) g) x) y;

INSERT INTO bill (id, bill_id, description, parent_bag_count, status, created_by_id, created_at)
SELECT g, CASE WHEN g % 1500 = 11 THEN NULL WHEN g % 1000 = 0 THEN 'BILL-' || (g - 1) ELSE 'BILL-' || g END,
       CASE WHEN g % 2 = 0 THEN 'consignment ' || g END, CASE WHEN g % 9 = 0 THEN NULL ELSE 10 END,
       (ARRAY['new', 'completed', NULL])[1 + g % 3], CASE WHEN g % 6 = 0 THEN NULL ELSE 1 + (g * 11) % :n_users END,
       timestamp '2024-02-01 00:00:00' + g * interval '7 minutes'
FROM generate_series(1, :n_bills) g;

-- bill_bag g: bill 1 + (g - 1) / 10, the parent bag of group (g - 1) % (bags / 10)
INSERT INTO bill_bag (id, bill_id, bag_id, created_at)
SELECT g, CASE WHEN g % 3000 = 1 THEN 2147483646 ELSE 1 + (h - 1) / 10 % :n_bills END,
       CASE WHEN g % 3500 = 2 THEN 2147483646 ELSE (h - 1) % (:n_bags / 10) * 10 + 1 END,
       timestamp '2024-02-01 00:00:00' + g * interval '13 seconds'
FROM (SELECT g, CASE WHEN g % 1000 = 0 THEN g - 1 ELSE g END AS h FROM generate_series(1, :n_bill_bags) g) x;

INSERT INTO audit_log (id, "timestamp", user_id, action, entity_type, entity_id, details, ip_address)
SELECT g, timestamp '2024-01-01 00:00:00' + g * interval '1 minute',
       CASE WHEN g % 300 = 2 THEN 2147483646 WHEN g % 7 = 0 THEN NULL ELSE 1 + g % :n_users END,
       CASE WHEN g % 400 = 1 THEN NULL ELSE (ARRAY['login', 'scan_parent', 'scan_child', 'create_bill'])[1 + g % 4] END,
       (ARRAY['bag', 'bill', NULL])[1 + g % 3], g % 1000, CASE WHEN g % 5 = 0 THEN 'via app' END, '10.0.' || g % 256 || '.1'
FROM generate_series(1, :n_audit) g;

ALTER TABLE "user" ADD PRIMARY KEY (id);
ALTER TABLE bag ADD PRIMARY KEY (id);
ALTER TABLE scan ADD PRIMARY KEY (id);
ALTER TABLE link ADD PRIMARY KEY (id);
ALTER TABLE bill ADD PRIMARY KEY (id);
ALTER TABLE bill_bag ADD PRIMARY KEY (id);
ALTER TABLE audit_log ADD PRIMARY KEY (id);
SELECT setval(pg_get_serial_sequence(t, 'id'), n) FROM (VALUES ('"user"', :n_users), ('bag', :n_bags), ('scan', :n_scans),
  ('link', :n_links), ('bill', :n_bills), ('bill_bag', :n_bill_bags), ('audit_log', :n_audit)) v(t, n);
COMMIT;
ANALYZE;
