-- A migration that asks for a file backup itself (tests/framework/backup_tests.sh): `dir` in its
-- backup declaration, no in-database copy. fb_src is created by the test (big enough that a
-- 256 KiB file size limit breaks the backup in the middle of a data file).
local migration = require "mighost.migration"

local m = migration.define {
  name = "file_backup",
  backup = {"fb_src", dir = "declared-backups", copy = false},
  setup = function(ctx) ctx.db:exec("CREATE TABLE IF NOT EXISTS fb_dst (id int PRIMARY KEY, v text NOT NULL)") end,
  phases = {
    { name = "rows", source = "SELECT id FROM fb_src", key = "id",
      migrated = "EXISTS (SELECT 1 FROM fb_dst d WHERE d.id = s.id)",
      batch = function(ctx, rows)
        local ids = {}
        for i, r in ipairs(rows) do ids[i] = r.id end
        return ctx.db:exec("INSERT INTO fb_dst SELECT id, v FROM fb_src WHERE id = ANY ($1::int[])",
          "{" .. table.concat(ids, ",") .. "}")
      end },
  },
  checks = {
    {name = "rows_copied", sql = [[SELECT count(*) FROM fb_src s WHERE NOT EXISTS (SELECT 1 FROM fb_dst d WHERE d.id = s.id)]]},
  },
}

return m:main()
