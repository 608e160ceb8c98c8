-- What the tutorial's `mighost test … --check examples/one_off/check.sql` asks of the database
-- one_off.lua leaves on small.sql, beyond the migration's own checks. mighost test runs each
-- query and passes when every one returns 0 (a count of violations).
-- every currency is three upper case letters
SELECT count(*) FROM orders WHERE currency !~ '^[A-Z]{3}$';
-- every status is trimmed and lower case
SELECT count(*) FROM orders WHERE status <> lower(btrim(status));
-- the two bad amounts are rejected, each with its reason
SELECT abs(2 - count(*)) FROM mig_meta.rejects
 WHERE migration = 'one_off' AND (source_key, reason) IN (('6', 'negative_amount'), ('7', 'missing_amount'));
-- the order of the vanished customer is kept, without its customer
SELECT 1 - count(*) FROM orders WHERE id = 4 AND customer_id IS NULL;
