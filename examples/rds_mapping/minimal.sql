-- A legacy TraceTrack install with as few columns as the alias table allows: every optional column
-- missing, so every default of spec rds_mapping.md §1/§3 is used (bag.qr_id falls back to the bag's
-- id as text; password '!'; role 'dispatcher'; type parent/child from parent_id; status 'pending';
-- weights and counts 0). No table has a primary key declared (ids are unique all the same).
--   psql -X -v ON_ERROR_STOP=1 -d SOURCE -f examples/rds_mapping/minimal.sql
-- Row -> rule (expected.sql, fixture "minimal"): bag 3 parent 3 (itself) fixup; link 3 (1, 2) again
-- duplicate_link; bill 2 'B1' again duplicate_bill_id; bill_bag 2 bag 9 orphan_bag; audit_log 2 NULL
-- action missing_action.
BEGIN;
CREATE TABLE "user" (id integer NOT NULL, username varchar(80) NOT NULL);
CREATE TABLE bag (id integer NOT NULL, parent_id integer);
CREATE TABLE scan (id integer NOT NULL, "timestamp" timestamp);
CREATE TABLE link (id integer NOT NULL, parent_bag_id integer, child_bag_id integer);
CREATE TABLE bill (id integer NOT NULL, bill_id varchar(50));
CREATE TABLE bill_bag (id integer NOT NULL, bill_id integer, bag_id integer);
CREATE TABLE audit_log (id integer NOT NULL, action varchar(50));
INSERT INTO "user" VALUES (2, 'solo'), (1, 'first');
INSERT INTO bag VALUES (1, NULL), (2, 1), (3, 3), (4, NULL);
INSERT INTO scan VALUES (1, '2024-01-01 00:00:00'), (2, '2024-01-02 00:00:00.5');
INSERT INTO link VALUES (1, 1, 2), (2, 4, 3), (3, 1, 2);
INSERT INTO bill VALUES (1, 'B1'), (2, 'B1'), (3, 'B3');
INSERT INTO bill_bag VALUES (1, 1, 2), (2, 1, 9), (3, 3, 1);
INSERT INTO audit_log VALUES (1, 'login'), (2, NULL);
COMMIT;
