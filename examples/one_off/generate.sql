-- examples/one_off/generate.sql — a large legacy database for examples/one_off/one_off.lua:
-- 50 000 customers and 500 000 orders at scale 1, deterministic (every value a function of g).
-- Scale: psql variable "scale" or the environment variable EXAMPLES_SCALE (default 1):
--   psql -X -v ON_ERROR_STOP=1 -v scale=0.1 -d DB -f examples/one_off/generate.sql
-- Per 1000 orders: g%1000 = 7 negative_amount, = 8 missing_amount; g%250 = 3 a customer that
-- does not exist (orphan_customer); g%100 = 5 no customer at all.
\if :{?scale}
\else
  \getenv scale EXAMPLES_SCALE
\endif
\if :{?scale}
\else
  \set scale 1
\endif
\set ON_ERROR_STOP 1
CREATE TABLE customers (
  id   integer PRIMARY KEY,
  name text NOT NULL);
CREATE TABLE orders_legacy (
  id          bigint PRIMARY KEY,
  customer_id integer,
  amount      numeric(12,2),
  currency    text,
  placed_at   timestamptz,
  status      text,
  note        text);
INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, greatest(1, (50000 * :scale)::int)) g;
INSERT INTO orders_legacy
SELECT g,
       CASE WHEN g % 250 = 3 THEN 10000000 + g WHEN g % 100 = 5 THEN NULL
            ELSE 1 + g % greatest(1, (50000 * :scale)::int) END,
       CASE WHEN g % 1000 = 7 THEN -(g % 90 + 1) WHEN g % 1000 = 8 THEN NULL ELSE (g % 100000) / 100.0 END,
       CASE g % 4 WHEN 0 THEN 'usd' WHEN 1 THEN 'EUR' WHEN 2 THEN NULL ELSE 'gbp' END,
       timestamptz '2020-01-01 00:00:00+00' + g * interval '1 minute 7.123456 seconds',
       CASE g % 3 WHEN 0 THEN ' Open' WHEN 1 THEN 'SHIPPED ' ELSE 'closed' END,
       CASE WHEN g % 10 = 0 THEN 'note ' || g END
  FROM generate_series(1, greatest(1, (500000 * :scale)::int)) g;
