-- What examples/one_off/one_off.lua must leave after a complete run on small.sql (psql -At):
-- orders | rejects (negative_amount, missing_amount) | fixups (orphan_customer) | amount total
SELECT (SELECT count(*) FROM orders) || '|' ||
       (SELECT count(*) FILTER (WHERE reason = 'negative_amount') || ',' || count(*) FILTER (WHERE reason = 'missing_amount')
          FROM mig_meta.rejects WHERE migration = 'one_off') || '|' ||
       (SELECT count(*) FROM mig_meta.fixups WHERE migration = 'one_off' AND rule = 'orphan_customer') || '|' ||
       (SELECT sum(amount) FROM orders);
-- expected: 6|1,1|1|12345702.75
