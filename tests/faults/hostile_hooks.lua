-- A migration that raises in the hook named by --raise-in (preconditions, setup, batch, finalize,
-- checks, rollback); tests/faults/hostile_input.sh runs it once per hook.
local migration = require "mighost.migration"
local function maybe(ctx, hook)
  if ctx.options.raise_in == hook then error("raised in " .. hook, 2) end
end
return migration.define {
  name = "hostile_hooks",
  options = {raise_in = {default = "", help = "the hook that raises"}},
  preconditions = {{name = "hook", check = function(ctx) maybe(ctx, "preconditions") return true end}},
  setup = function(ctx) maybe(ctx, "setup") end,
  phases = {
    { name = "src", source = [[SELECT * FROM src]], key = "id",
      migrated = [[EXISTS (SELECT 1 FROM dst d WHERE d.id = s.id)]],
      batch = function(ctx, rows)
        local n = 0
        for _, r in ipairs(rows) do n = n + ctx.db:exec("INSERT INTO dst (id, v) VALUES ($1, $2)", r.id, r.v) end
        maybe(ctx, "batch")
        return n
      end },
  },
  finalize = function(ctx)
    ctx.db:exec("UPDATE dst SET v = v || ' (final)'")
    maybe(ctx, "finalize")
  end,
  checks = {{name = "hook", fn = function(ctx) maybe(ctx, "checks") return 0 end}},
  rollback = function(ctx)
    ctx.db:exec("DELETE FROM dst")
    maybe(ctx, "rollback")
  end,
}:main()
