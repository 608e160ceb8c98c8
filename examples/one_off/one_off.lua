-- The tutorial's second step (stdlib/README.md, "Declared phases"): a one-off copy of a legacy
-- table into a new one, written as a declaration. The framework writes every statement: one per
-- batch (5000 orders at first, more while batches commit quickly: --batch-time), the rejects
-- and fixups inside it, the table's indexes and foreign key after the rows, and the checks that
-- follow from the mapping.
--
--   mighost run examples/one_off/one_off.lua --sandbox --fixture examples/one_off/small.sql
--
-- Runbook it replaces: "create orders; copy orders_legacy into it (currency upper case, USD when
-- missing; status trimmed and lower case); skip orders without a valid amount; clear customers
-- that no longer exist; check that the amounts add up".
local migration = require "mighost.migration"

-- The new table. The framework creates it with its CHECK, and adds the indexes, the foreign key
-- and (id copies orders_legacy's own unique id) the primary key once the rows are in.
local TARGET_DDL = [[
CREATE TABLE orders (
  id          bigint PRIMARY KEY,
  customer_id integer,
  amount      numeric(12,2) NOT NULL CHECK (amount >= 0),
  currency    char(3) NOT NULL,
  placed_at   timestamptz,
  status      text NOT NULL,
  note        text);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE INDEX orders_placed_at_idx ON orders (placed_at);
ALTER TABLE orders ADD CONSTRAINT orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);]]

local m = migration.define {
  name = "one_off",
  description = "orders_legacy -> orders (amounts checked, vanished customers cleared)",
  options = {batch_size = {default = 5000}},
  backup = {"orders_legacy", copy = false},   -- the source stays as it is: a file backup with --backup-dir only

  target_ddl = TARGET_DDL,

  phases = {
    { name = "orders",
      source = "orders_legacy", key = "id",
      target = {table = "orders", key = "id"},
      map = {
        id = "s.id",
        customer_id = "s.customer_id",
        amount = "s.amount",
        currency = "COALESCE(upper(s.currency), 'USD')",
        placed_at = "s.placed_at",
        status = "COALESCE(lower(btrim(s.status)), 'open')",
        note = "s.note",
      },
      rejects = {
        {"missing_amount", "s.amount IS NULL"},
        {"negative_amount", "s.amount < 0", detail = "'amount ' || s.amount"},
      },
      references = {
        customer_id = {table = "customers", key = "id", rule = "orphan_customer"},
      } },
  },

  checks = {   -- the generated ones prove every row was copied as mapped; this one is the runbook's
    {name = "amounts_match", needs = "complete", sql = [[
      SELECT (SELECT COALESCE(sum(amount), 0) FROM orders_legacy WHERE amount >= 0)
           - (SELECT COALESCE(sum(amount), 0) FROM orders)]]},
  },

  rollback = [[
    BEGIN;
    DROP TABLE orders;
    DELETE FROM mig_meta.rejects WHERE migration = 'one_off';
    DELETE FROM mig_meta.fixups WHERE migration = 'one_off';
    COMMIT;]],
}

return m:main()
