-- The anchor of tests/bench/migration_bench.sh for examples/one_off: the same copy in one
-- statement, rejected orders left out, vanished customers cleared.
INSERT INTO orders (id, customer_id, amount, currency, placed_at, status, note)
SELECT o.id, c.id, o.amount, COALESCE(upper(o.currency), 'USD'), o.placed_at, COALESCE(lower(btrim(o.status)), 'open'), o.note
  FROM orders_legacy o LEFT JOIN customers c ON c.id = o.customer_id
 WHERE o.amount >= 0;
