-- Checks declared with `count` over the demo fixture (examples/demo/fixture.sql), run by
-- tests/framework/declared_tests.sh: four checks count over the same join (one query, so
-- counted_items() runs once; the test creates it and its sequence), one of them over two FROMs;
-- two count over items alone, one with a condition that fails (division by zero): only that
-- one fails, its sibling is counted alone. jit_off: the run's sessions run without JIT.
local migration = require "mighost.migration"

local JOINED = "counted_items() s LEFT JOIN owners o ON o.id = s.owner_id"

local m = migration.define {
  name = "counted",
  phases = {{name = "nothing", step = function() return 0 end}},
  checks = {
    {name = "dangling_owners", expected = 21, count = {{JOINED, "s.owner_id IS NOT NULL AND o.id IS NULL"}}},
    {name = "negative_quantities", expected = 16, count = {{JOINED, "s.qty < 0"}}},
    {name = "items_and_five_owners", expected = 609, count = {{JOINED, "true"}, {"owners o", "o.id <= 5"}}},
    {name = "no_owner", expected = 40,
     count = {{function() return JOINED end, function() return "o.id IS NULL" end}}},
    {name = "broken_condition", count = {{"items s", "1 / (s.qty - s.qty) = 1"}}},
    {name = "null_prices", expected = 26, count = {{"items s", "s.price IS NULL"}}},
    {name = "jit_off", expected = 1, count = {{"pg_settings", "name = 'jit' AND setting = 'off'"}}},
  },
}

return m:main()
