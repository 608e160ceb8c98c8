-- A hand-written batch whose statement fails under a tail call (`return ctx:write_batch(…)`),
-- which leaves no frame of this script in the traceback (declared_tests.sh: the error still
-- names the phase's line here).
local migration = require "mighost.migration"

local m = migration.define {
  name = "tail_call",
  phases = {
    { name = "items", source = [[SELECT * FROM items]], key = "id", fetch = "range",
      migrated = "false",
      batch = function(ctx)
        return ctx:write_batch({write = "INSERT INTO no_such_table SELECT 1"}, unpack(ctx.window.params))
      end },
  },
}

return m:main()
