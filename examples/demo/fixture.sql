-- Legacy database of the demo migration (examples/demo/demo.lua): owners and their items.
-- Covers every rule of the demo: negative quantities (reject), dangling owners (fixup), NULL
-- owners and prices, text with tabs, quotes and backslashes, keys whose byte order differs from
-- the locale's order.
CREATE TABLE owners (
  id   integer PRIMARY KEY,
  name text NOT NULL);
CREATE TABLE items (
  id       text PRIMARY KEY,
  name     text NOT NULL,
  qty      integer NOT NULL,
  price    numeric(12,2),          -- NULL means 0 (a mapping rule, not a fixup)
  owner_id integer,                -- no foreign key: may dangle
  note     text);

INSERT INTO owners SELECT g, 'owner ' || g FROM generate_series(1, 20) g;

INSERT INTO items
SELECT 'it-' || lpad(g::text, 4, '0'),
       'item ' || g,
       CASE WHEN g % 37 = 0 THEN -g ELSE g % 50 END,
       CASE WHEN g % 23 = 0 THEN NULL ELSE (g * 1.25)::numeric(12,2) END,
       CASE WHEN g % 29 = 0 THEN 900 + g WHEN g % 31 = 0 THEN NULL ELSE g % 20 + 1 END,
       CASE WHEN g % 7 = 0 THEN E'tab\there ''quoted'' back\\slash' WHEN g % 11 = 0 THEN '' END
FROM generate_series(1, 600) g;

INSERT INTO items VALUES
  ('B-upper', 'upper case key', 5, 1.00, 1, NULL),
  ('a-lower', 'lower case key', 6, 2.00, 2, NULL),
  ('Ä-umlaut', 'non-ASCII key', 7, 3.00, 3, E'line\nbreak'),
  ('z|pipe', 'key with a pipe', 8, 4.00, 999, NULL);
