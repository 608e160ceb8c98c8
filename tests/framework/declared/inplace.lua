-- An in-place declared phase over the demo fixture (examples/demo/fixture.sql): items gets new
-- columns (alter_ddl, an enum), filled from the snapshot of items: a band by quantity, a rank that
-- depends on the whole set (derived), the owner or a fallback owner (a reference judged against
-- owners, NULL included), one audit row per migrated item; negative quantities are rejected and
-- left as they are. Used by tests/framework/declared_tests.sh.
local migration = require "mighost.migration"

local m = migration.define {
  name = "inplace",
  description = "items enriched in place, declared",
  backup = {"items"},
  enums = {item_band = {"none", "few", "many"}},
  alter_ddl = [[
    ALTER TABLE items ADD COLUMN band item_band NOT NULL DEFAULT 'none', ADD COLUMN rank_no text, ADD COLUMN owner_ok integer;
    CREATE UNIQUE INDEX items_rank_no_key ON items (rank_no);
    ALTER TABLE items ADD CONSTRAINT items_owner_ok_fkey FOREIGN KEY (owner_ok) REFERENCES owners (id);]],
  target_ddl = [[
    CREATE TABLE item_audit (id bigserial PRIMARY KEY, item_id text NOT NULL, old jsonb, new jsonb);
    CREATE INDEX item_audit_item_idx ON item_audit (item_id);]],
  phases = {
    { name = "items",
      source = "mig_backup_inplace.items", key = "id",
      target = {table = "items", update = true},
      migrated = [[EXISTS (SELECT 1 FROM items p WHERE p.id = s.id AND p.rank_no IS NOT NULL)]],
      derived = [[SELECT id, 'R' || row_number() OVER (ORDER BY name COLLATE "C", id COLLATE "C") AS rank_no
                  FROM mig_backup_inplace.items]],
      map = {band = "(CASE WHEN s.qty = 0 THEN 'none' WHEN s.qty < 10 THEN 'few' ELSE 'many' END)::item_band",
             rank_no = "d.rank_no", owner_ok = "s.owner_id"},
      rejects = {{"negative_quantity", "s.qty < 0", detail = "'qty ' || s.qty"}},
      references = {owner_ok = {table = "owners", key = "id", rule = "orphan_owner",
                                fallback = "(SELECT min(o.id) FROM owners o)", required = true}},
      audit = {table = "item_audit", row = {item_id = "t.id", old = "to_jsonb(s)",
               new = "jsonb_build_object('band', t.band, 'rank_no', t.rank_no, 'owner_ok', t.owner_ok)"}} },
  },
  rollback = [[
    BEGIN;
    DROP TABLE item_audit;
    ALTER TABLE items DROP COLUMN band, DROP COLUMN rank_no, DROP COLUMN owner_ok;
    DROP TYPE item_band;
    DELETE FROM mig_meta.rejects WHERE migration = 'inplace';
    DELETE FROM mig_meta.fixups WHERE migration = 'inplace';
    COMMIT;]],
}

return m:main()
