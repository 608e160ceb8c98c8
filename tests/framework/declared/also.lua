-- A declared phase with more than one target over the demo fixture (examples/demo/fixture.sql):
-- items -> stock_a (its key adds the column that says the row is ours: an application row of the
-- same item is not), label_a (an `also` target with the same reference rule) and queue_a (a queue),
-- and item_notes, rows that follow their item: copied in the item's batch (`after`), rejected with
-- a rejected item, orphans rejected in finalize. `--stream` runs the phase streamed without the
-- also-targets (`after` runs there too); `--stream-also` asks for both (refused: `also` runs
-- set-based). Used by tests/framework/declared_tests.sh.
local script = require "mighost.script"
local migration = require "mighost.migration"

local flag = dofile(script.dir .. "/flags.lua")

local OWNER = {owner_id = {table = "owners", key = "id", rule = "orphan_owner"}}

local m = migration.define {
  name = "declared_also",
  description = "items -> stock_a + label_a + queue_a; item_notes follow their item",
  options = {stream = {type = "bool", help = "a streamed phase, without also"},
             stream_also = {type = "bool", help = "a streamed phase with also"}},
  setup = function(ctx)
    ctx.db:exec([[
      CREATE TABLE IF NOT EXISTS stock_a (item_id text PRIMARY KEY, src text NOT NULL, quantity integer NOT NULL,
                                          owner_id integer);
      CREATE TABLE IF NOT EXISTS label_a (item_id text PRIMARY KEY, label text NOT NULL, owner_id integer);
      CREATE TABLE IF NOT EXISTS queue_a (item_id text PRIMARY KEY, queued_at timestamptz NOT NULL DEFAULT now());
      CREATE TABLE IF NOT EXISTS notes_a (id serial PRIMARY KEY, note_id integer NOT NULL UNIQUE, item_id text NOT NULL,
                                          body text);
      INSERT INTO stock_a VALUES ('it-0005', 'app', 1, NULL) ON CONFLICT DO NOTHING;
      CREATE TABLE IF NOT EXISTS item_notes (id integer PRIMARY KEY, item_id text NOT NULL, body text);
      INSERT INTO item_notes SELECT g, 'it-' || lpad((g / 2)::text, 4, '0'), 'note ' || g
        FROM generate_series(2, 200) g ON CONFLICT DO NOTHING;
      INSERT INTO item_notes VALUES (1001, 'no-such-item', 'orphan') ON CONFLICT DO NOTHING;]])
  end,
  phases = {
    { name = "items", source = "items", key = "id",
      mode = (flag("--stream") or flag("--stream-also")) and "stream" or nil,
      target = {table = "stock_a", key = {"item_id", "src"}, owned = "src = 'legacy'"},
      map = {item_id = "s.id", src = "'legacy'", quantity = "s.qty", owner_id = "s.owner_id"},
      also = not flag("--stream") and {
        {table = "label_a", key = "item_id", map = {item_id = "s.id", label = "upper(s.name)", owner_id = "s.owner_id"},
         references = OWNER, check_names = {values = "label_values"}},
        {table = "queue_a", key = "item_id", map = {item_id = "s.id"}, queue = true},
      } or nil,
      rejects = {
        {"negative_quantity", "s.qty < 0", detail = "'qty ' || s.qty"},
        {"item_taken", "EXISTS (SELECT 1 FROM stock_a t WHERE t.item_id = s.id AND t.src <> 'legacy')",
         detail = "'stock_a ' || s.id || ' belongs to the application'"},
      },
      references = OWNER,
      after = function(ctx, batch)
        if #batch.migrated > 0 then
          ctx:written("item_notes", ctx.db:exec("INSERT INTO notes_a (note_id, item_id, body) SELECT n.id, n.item_id, n.body FROM ("
            .. ctx:unrejected("item_notes", "s.item_id = ANY($1::text[])") .. ") n ORDER BY n.id ON CONFLICT DO NOTHING",
            require("mighost.db").array(batch.migrated)))
        end
        if #batch.rejected > 0 then
          ctx:reject_rows("item_notes", [[SELECT n.id::text AS source_key, 'item_rejected' AS reason,
              'item ' || k.key || ' rejected: ' || k.reason AS detail, to_jsonb(n) AS row_data
            FROM unnest($1::text[], $2::text[]) k(key, reason) JOIN item_notes n ON n.item_id = k.key]],
            require("mighost.db").array(batch.rejected), require("mighost.db").array(batch.reasons))
        end
      end },
  },
  sets = {
    { name = "item_notes", source = "SELECT * FROM item_notes", key = "id",
      migrated = "EXISTS (SELECT 1 FROM notes_a a WHERE a.note_id = s.id)" },
  },
  finalize = function(ctx)   -- orphans, and notes of items rejected by an earlier run
    ctx:reject_rows("item_notes", [[SELECT n.id::text AS source_key,
        CASE WHEN i.id IS NULL THEN 'orphan_item' ELSE 'item_rejected' END AS reason,
        CASE WHEN i.id IS NULL THEN 'no item ' || n.item_id ELSE 'item ' || n.item_id || ' rejected: ' || r.reason END AS detail,
        to_jsonb(n) AS row_data
      FROM item_notes n LEFT JOIN items i ON i.id = n.item_id
      LEFT JOIN (]] .. ctx:rejects_of("items") .. [[) r ON r.source_key = n.item_id
      WHERE i.id IS NULL OR r.reason IS NOT NULL]])
  end,
}

return m:main()
