-- A declaration with a misspelled key (declared_tests.sh: the error names this file and line).
local migration = require "mighost.migration"

local m = migration.define {
  name = "typo",
  phases = {
    { name = "items", source = "items", key = "id",
      target = {table = "stock_t", key = "item_id"},
      map = {item_id = "s.id"} },
  },
  chekcs = {
    {name = "something", sql = "SELECT 0"},
  },
}

return m:main()
