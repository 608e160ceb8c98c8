-- A migration whose batches fail in worker 2 (tests/framework: a worker's error must come back
-- with its traceback, stop the run with exit 1, and never crash the process).
local migration = require "mighost.migration"

local m = migration.define {
  name = "worker_error",
  setup = function(ctx) ctx.db:exec("CREATE TABLE IF NOT EXISTS worker_error_t (id int PRIMARY KEY)") end,
  phases = {
    { name = "nums", source = "SELECT g AS id FROM generate_series(1, 200) g", key = "id",
      migrated = "EXISTS (SELECT 1 FROM worker_error_t t WHERE t.id = s.id)", workers = true,
      batch = function(ctx, rows)
        local function explode() error("boom in worker " .. tostring(ctx.worker)) end
        if ctx.worker == 2 then explode() end
        for _, r in ipairs(rows) do ctx.db:exec("INSERT INTO worker_error_t VALUES ($1)", r.id) end
        return #rows
      end },
  },
}

return m:main()
