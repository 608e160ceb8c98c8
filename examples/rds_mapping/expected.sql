-- Expected outcome of scripts/rds_mapping.lua for each fixture of this folder, written out by hand
-- from spec rds_mapping.md §3 (not derived by the script's own SQL). Run it on the TARGET after a
-- complete run; it prints one line per difference, then `<fixture>: N differences`:
--   psql -X -At -v ON_ERROR_STOP=1 -v fixture=canonical -d TARGET -f examples/rds_mapping/expected.sql
-- Compared: counts (source, migrated, rejected) of the last run per table, the exact reject
-- (table, key, reason) and fixup (table, key, field, old value) rows, and some target values.
-- Uses temporary tables only; `:schema` (default public) is the --target-schema.
\set QUIET on
\if :{?schema}
\else
\set schema public
\endif
SET search_path = :"schema";
CREATE TEMP TABLE exp_counts (fixture text, t text, source int, migrated int, rejected int);
INSERT INTO exp_counts VALUES
  ('canonical', 'user', 15, 10, 5), ('canonical', 'bag', 16, 12, 4), ('canonical', 'bill', 7, 3, 4),
  ('canonical', 'scan', 8, 7, 1), ('canonical', 'link', 10, 5, 5), ('canonical', 'bill_bag', 13, 8, 5),
  ('canonical', 'promotionrequest', 5, 2, 3), ('canonical', 'audit_log', 4, 3, 1),
  ('alternative', 'user', 6, 4, 2), ('alternative', 'bag', 10, 7, 3), ('alternative', 'bill', 0, 0, 0),
  ('alternative', 'scan', 4, 3, 1), ('alternative', 'link', 0, 0, 0), ('alternative', 'bill_bag', 0, 0, 0),
  ('alternative', 'promotionrequest', 0, 0, 0), ('alternative', 'audit_log', 0, 0, 0),
  ('minimal', 'user', 2, 2, 0), ('minimal', 'bag', 4, 4, 0), ('minimal', 'bill', 3, 2, 1),
  ('minimal', 'scan', 2, 2, 0), ('minimal', 'link', 3, 2, 1), ('minimal', 'bill_bag', 3, 2, 1),
  ('minimal', 'promotionrequest', 0, 0, 0), ('minimal', 'audit_log', 2, 1, 1);

CREATE TEMP TABLE exp_rejects (fixture text, t text, k text, reason text);
INSERT INTO exp_rejects VALUES
  ('canonical', 'user', '4', 'missing_username'), ('canonical', 'user', '5', 'value_too_long'),
  ('canonical', 'user', '7', 'duplicate_username'), ('canonical', 'user', '13', 'missing_username'),
  ('canonical', 'user', '15', 'value_too_long'),
  ('canonical', 'bag', '104', 'missing_qr_id'), ('canonical', 'bag', '105', 'missing_qr_id'),
  ('canonical', 'bag', '106', 'value_too_long'), ('canonical', 'bag', '107', 'duplicate_qr_id'),
  ('canonical', 'bill', '4', 'missing_bill_id'), ('canonical', 'bill', '5', 'missing_bill_id'),
  ('canonical', 'bill', '6', 'value_too_long'), ('canonical', 'bill', '7', 'duplicate_bill_id'),
  ('canonical', 'scan', '4', 'missing_timestamp'),
  ('canonical', 'link', '5', 'orphan_bag'), ('canonical', 'link', '6', 'orphan_bag'), ('canonical', 'link', '7', 'self_link'),
  ('canonical', 'link', '8', 'duplicate_link'), ('canonical', 'link', '9', 'orphan_bag'),
  ('canonical', 'bill_bag', '9', 'orphan_bill'), ('canonical', 'bill_bag', '10', 'orphan_bill'),
  ('canonical', 'bill_bag', '11', 'orphan_bag'), ('canonical', 'bill_bag', '12', 'orphan_bag'),
  ('canonical', 'bill_bag', '13', 'duplicate_bill_bag'),
  ('canonical', 'promotionrequest', '2', 'orphan_user'), ('canonical', 'promotionrequest', '3', 'orphan_user'),
  ('canonical', 'promotionrequest', '4', 'missing_role'), ('canonical', 'audit_log', '3', 'missing_action'),
  ('alternative', 'user', '3', 'missing_username'), ('alternative', 'user', '5', 'duplicate_username'),
  ('alternative', 'bag', '204', 'missing_qr_id'), ('alternative', 'bag', '205', 'missing_qr_id'),
  ('alternative', 'bag', '206', 'duplicate_qr_id'), ('alternative', 'scan', '3', 'missing_timestamp'),
  ('minimal', 'bill', '2', 'duplicate_bill_id'), ('minimal', 'link', '3', 'duplicate_link'),
  ('minimal', 'bill_bag', '2', 'orphan_bag'), ('minimal', 'audit_log', '2', 'missing_action');

CREATE TEMP TABLE exp_fixups (fixture text, t text, k text, field text, old_value text);
INSERT INTO exp_fixups VALUES
  ('canonical', 'bag', '109', 'user_id', '4'), ('canonical', 'bag', '110', 'user_id', '999'),
  ('canonical', 'bag', '112', 'parent_id', '112'), ('canonical', 'bag', '113', 'parent_id', '999'),
  ('canonical', 'bag', '114', 'parent_id', '107'), ('canonical', 'bill', '3', 'created_by_id', '999'),
  ('canonical', 'scan', '5', 'parent_bag_id', '999'), ('canonical', 'scan', '6', 'child_bag_id', '105'),
  ('canonical', 'scan', '7', 'user_id', '999'), ('canonical', 'scan', '8', 'user_id', '4'),
  ('canonical', 'link', '10', 'user_id', '999'), ('canonical', 'promotionrequest', '5', 'admin_id', '999'),
  ('canonical', 'audit_log', '4', 'user_id', '5'),
  ('alternative', 'bag', '207', 'parent_id', '206'), ('alternative', 'bag', '208', 'user_id', '3'),
  ('alternative', 'bag', '209', 'user_id', '77'), ('alternative', 'scan', '4', 'parent_bag_id', '206'),
  ('alternative', 'scan', '4', 'child_bag_id', '999'), ('alternative', 'scan', '4', 'user_id', '3'),
  ('minimal', 'bag', '3', 'parent_id', '3');

-- target values (as JSON text: to_json(row) ->> column, which keeps a float as PostgreSQL prints it; NULL = SQL NULL)
CREATE TEMP TABLE exp_values (fixture text, t text, id int, col text, v text);
INSERT INTO exp_values VALUES
  ('canonical', 'user', 1, 'role', 'admin'), ('canonical', 'user', 2, 'role', 'biller'),
  ('canonical', 'user', 3, 'role', 'dispatcher'), ('canonical', 'user', 3, 'password_hash', '!'),
  ('canonical', 'user', 3, 'verified', 'false'), ('canonical', 'user', 6, 'role', 'dispatcher'),
  ('canonical', 'user', 9, 'username', E'émilie\t"o''neil"\\'), ('canonical', 'user', 9, 'email', E'e\nmail'),
  ('canonical', 'user', 9, 'created_at', '1969-12-31T23:59:59.999999'), ('canonical', 'user', 10, 'password_hash', '!'),
  ('canonical', 'user', 10, 'role', 'dispatcher'), ('canonical', 'user', 10, 'created_at', 'infinity'),
  ('canonical', 'user', 11, 'password_hash', '!'), ('canonical', 'user', 11, 'created_at', '-infinity'),
  ('canonical', 'user', 8, 'username', 'Disp1'),
  ('canonical', 'bag', 102, 'type', 'parent'), ('canonical', 'bag', 102, 'status', 'pending'),
  ('canonical', 'bag', 102, 'weight_kg', '0'), ('canonical', 'bag', 102, 'child_count', '0'),
  ('canonical', 'bag', 103, 'type', 'parent'), ('canonical', 'bag', 109, 'type', 'child'),
  ('canonical', 'bag', 109, 'weight_kg', '-0'), ('canonical', 'bag', 110, 'type', 'child'),
  ('canonical', 'bag', 110, 'weight_kg', '0.30000000000000004'), ('canonical', 'bag', 111, 'parent_id', '130'),
  ('canonical', 'bag', 112, 'parent_id', NULL), ('canonical', 'bag', 115, 'weight_kg', '1e-300'),
  ('canonical', 'bag', 115, 'qr_id', 'qr-p1'), ('canonical', 'bag', 110, 'name', E'tab\there'),
  ('canonical', 'bill', 1, 'total_weight_kg', '52.5'), ('canonical', 'bill', 2, 'total_weight_kg', '0'),
  ('canonical', 'bill', 2, 'parent_bag_count', '0'), ('canonical', 'bill', 2, 'status', 'new'),
  ('canonical', 'scan', 3, 'timestamp', 'infinity'), ('canonical', 'promotionrequest', 1, 'status', 'pending'),
  ('alternative', 'user', 1, 'verified', 'true'), ('alternative', 'user', 4, 'verified', 'false'),
  ('alternative', 'user', 2, 'password_hash', '!'), ('alternative', 'user', 4, 'password_hash', '!'),
  ('alternative', 'user', 1, 'role', 'dispatcher'), ('alternative', 'user', 6, 'username', 'ann'),
  ('alternative', 'bag', 203, 'parent_id', '210'), ('alternative', 'bag', 203, 'weight_kg', '12.345'),
  ('alternative', 'bag', 203, 'type', 'child'), ('alternative', 'bag', 201, 'type', 'parent'),
  ('alternative', 'bag', 202, 'weight_kg', '0'), ('alternative', 'bag', 201, 'dispatch_area', 'lagos'),
  ('minimal', 'bag', 1, 'qr_id', '1'), ('minimal', 'bag', 2, 'type', 'child'), ('minimal', 'bag', 3, 'type', 'child'),
  ('minimal', 'user', 1, 'password_hash', '!'), ('minimal', 'bill', 3, 'total_weight_kg', '0');

WITH runs AS (SELECT counts FROM mig_meta.runs WHERE migration = 'rds_mapping' AND status = 'ok' ORDER BY run_id DESC LIMIT 1),
rows AS (
  SELECT 'user' t, id, to_json(x) j FROM "user" x UNION ALL SELECT 'bag', id, to_json(x) FROM bag x
  UNION ALL SELECT 'bill', id, to_json(x) FROM bill x UNION ALL SELECT 'scan', id, to_json(x) FROM scan x
  UNION ALL SELECT 'promotionrequest', id, to_json(x) FROM promotionrequest x),
diff AS (
  SELECT format('counts %s: expected %s|%s|%s, got %s|%s|%s', e.t, e.source, e.migrated, e.rejected,
                r.counts -> e.t ->> 'source', r.counts -> e.t ->> 'migrated', r.counts -> e.t ->> 'rejected') AS line
    FROM exp_counts e LEFT JOIN runs r ON true
   WHERE e.fixture = :'fixture' AND (r.counts -> e.t ->> 'source', r.counts -> e.t ->> 'migrated', r.counts -> e.t ->> 'rejected')
         IS DISTINCT FROM (e.source::text, e.migrated::text, e.rejected::text)
  UNION ALL
  SELECT format('reject %s %s %s: %s', t, k, reason, CASE WHEN n_exp > 0 THEN 'missing' ELSE 'unexpected' END) FROM (
    SELECT t, k, reason, count(*) FILTER (WHERE side = 'e') AS n_exp, count(*) FILTER (WHERE side = 'g') AS n_got FROM (
      SELECT 'e' side, t, k, reason FROM exp_rejects WHERE fixture = :'fixture'
      UNION ALL SELECT 'g', source_table, source_key, reason FROM mig_meta.rejects WHERE migration = 'rds_mapping') x
    GROUP BY t, k, reason) y WHERE n_exp <> n_got
  UNION ALL
  SELECT format('fixup %s %s %s %s: %s', t, k, field, old_value, CASE WHEN n_exp > 0 THEN 'missing' ELSE 'unexpected' END) FROM (
    SELECT t, k, field, old_value, count(*) FILTER (WHERE side = 'e') AS n_exp, count(*) FILTER (WHERE side = 'g') AS n_got FROM (
      SELECT 'e' side, t, k, field, old_value FROM exp_fixups WHERE fixture = :'fixture'
      UNION ALL SELECT 'g', source_table, source_key, field, old_value FROM mig_meta.fixups
                 WHERE migration = 'rds_mapping' AND rule = 'orphan_reference') x
    GROUP BY t, k, field, old_value) y WHERE n_exp <> n_got
  UNION ALL
  SELECT format('value %s %s %s: expected %s, got %s', e.t, e.id, e.col, COALESCE(e.v, 'NULL'), COALESCE(r.j ->> e.col, 'NULL'))
    FROM exp_values e LEFT JOIN rows r ON r.t = e.t AND r.id = e.id
   WHERE e.fixture = :'fixture' AND (r.j IS NULL OR (r.j ->> e.col) IS DISTINCT FROM e.v))
SELECT line FROM diff ORDER BY line;
SELECT :'fixture' || ': ' || (SELECT count(*) FROM exp_counts WHERE fixture = :'fixture') || ' tables expected; differences follow above (none = ok)';
