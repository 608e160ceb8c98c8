-- Demo of a migration between two databases (the shape of rds_mapping): owners are read from
-- --source-db and copied into owners_copy on --target-db, where mig_meta and the lock live.
-- Owners whose name contains a 7 are rejected (to show rejects across databases).
local migration = require "mighost.migration"
local sys = require "mighost.sys"

local m = migration.define {
  name = "demo_two_db",
  description = "owners (source database) -> owners_copy (target database)",
  connections = {
    {name = "source", env = "DEMO_SOURCE_URL", help = "the legacy database (default $DEMO_SOURCE_URL)"},
    {name = "target", fallback = "source", help = "the new database (default: the source)"},
  },
  options = {
    limit = false,   -- no --limit: every run covers the whole source
    sleep_ms = {type = "int", default = 0, min = 0, help = "sleep per batch (tests)"},
  },
  preconditions = {
    {name = "source_tables", check = function(ctx)
      local ok = ctx.source:scalar("SELECT to_regclass('owners') IS NOT NULL")
      return ok, ok and "owners present" or "the source has no owners table"
    end},
  },
  setup = function(ctx)
    ctx.target:exec("CREATE TABLE IF NOT EXISTS owners_copy (id integer PRIMARY KEY, name text NOT NULL)")
  end,
  phases = {
    { name = "owners", from = "source",
      source = [[SELECT * FROM owners]], key = "id",
      migrated_count = [[SELECT count(*) FROM owners_copy]],   -- the target cannot join the source
      batch = function(ctx, rows)
        if ctx.options.sleep_ms > 0 then sys.sleep(ctx.options.sleep_ms / 1000) end
        local written = 0
        for _, owner in ipairs(rows) do
          if owner.name:find("7", 1, true) then
            ctx:reject(owner, "has_seven", "name " .. owner.name)
          else
            written = written + ctx.target:exec(
              "INSERT INTO owners_copy (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING", owner.id, owner.name)
          end
        end
        return written
      end },
  },
  checks = {
    {name = "owners_accounted", needs = "complete", fn = function(ctx)
      return ctx.source:scalar("SELECT count(*) FROM owners") - ctx.target:scalar("SELECT count(*) FROM owners_copy")
        - ctx.target:scalar("SELECT count(*) FROM mig_meta.rejects WHERE migration = 'demo_two_db'")
    end},
    {name = "names_copied", on = "target", sql = [[SELECT count(*) FROM owners_copy WHERE name NOT LIKE 'owner %']]},
  },
  rollback = [[DROP TABLE IF EXISTS owners_copy;
               DELETE FROM mig_meta.rejects WHERE migration = 'demo_two_db']],
}

return m:main()
