-- The declaration of items.lua with its source on another connection (a read-only snapshot
-- session): it runs piped (COPY from the source's session into a stage of the target's) and must
-- give the same rows, rejects and fixups as the set-based run. Used by declared_tests.sh (test_25).
local migration = require "mighost.migration"

local m = migration.define {
  name = "declared",
  description = "items (source database) -> stock_d (target database), declared",
  connections = {{name = "source", snapshot = true, help = "the database holding items"},
                 {name = "target", fallback = "source", help = "the database written"}},
  target_ddl = [[
    CREATE TABLE stock_d (n serial PRIMARY KEY, item_id text NOT NULL UNIQUE,
      quantity integer NOT NULL CHECK (quantity >= 0), price numeric(12,2) NOT NULL, owner_id integer,
      note text, label text);
    CREATE INDEX stock_d_owner_idx ON stock_d (owner_id);
    ALTER TABLE stock_d ADD CONSTRAINT stock_d_owner_fkey FOREIGN KEY (owner_id) REFERENCES owners (id);]],
  phases = {
    { name = "items", from = "source",
      source = "items", key = "id",
      target = {table = "stock_d", key = "item_id"},
      map = {item_id = "s.id", quantity = "s.qty", price = "COALESCE(s.price, 0)", owner_id = "s.owner_id",
             note = "s.note", label = "upper(s.name)"},
      rejects = {{"negative_quantity", "s.qty < 0", detail = "'qty ' || s.qty"}},
      references = {owner_id = {table = "owners", key = "id", rule = "orphan_owner"}} },
  },
}

return m:main()
