-- The legacy database of examples/one_off/one_off.lua (the tutorial's second step): customers
-- and their orders in the old shape. One row per rule; the expected counts are in expected.sql.
CREATE TABLE customers (
  id   integer PRIMARY KEY,
  name text NOT NULL);
CREATE TABLE orders_legacy (
  id          bigint PRIMARY KEY,
  customer_id integer,              -- no foreign key: may dangle
  amount      numeric(12,2),        -- NULL or negative in some rows
  currency    text,                 -- NULL means USD; mixed case
  placed_at   timestamptz,
  status      text,                 -- free text: ' Shipped', 'OPEN', ...
  note        text);

INSERT INTO customers VALUES (1, 'Ada'), (2, 'Grace'), (3, 'Edsger');

INSERT INTO orders_legacy VALUES
  (1, 1, 10.00, 'usd', '2024-01-02 03:04:05.123456+00', 'open', NULL),           -- migrates as is
  (2, 2, 0.00, NULL, '2024-02-03 00:00:00+00', ' Shipped ', ''),                 -- currency NULL -> USD, status trimmed
  (3, 3, 12345678.90, 'eur', '1969-12-31 23:59:59.999999+00', 'OPEN', E'tab\there'),   -- before 1970
  (4, 99, 5.50, 'USD', '2024-03-04 05:06:07+00', 'open', 'customer 99 is gone'),  -- orphan_customer fixup
  (5, NULL, 7.25, 'usd', NULL, NULL, NULL),                                      -- no customer: kept NULL, no fixup
  (6, 1, -1.00, 'usd', '2024-04-05 00:00:00+00', 'open', NULL),                  -- negative_amount reject
  (7, 2, NULL, 'usd', '2024-05-06 00:00:00+00', 'open', NULL),                   -- missing_amount reject
  (9007199254740993, 3, 1.10, 'gbp', 'infinity', 'closed', 'key beyond 2^53');   -- bigint key, infinity
