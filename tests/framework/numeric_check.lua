-- A migration of nothing but checks whose values are numeric, real, double and huge: each must
-- print and be stored as the text PostgreSQL returns. Used by tests/framework/ledger_tests.sh.
local migration = require "mighost.migration"

local m = migration.define {
  name = "numeric_check",
  phases = {},
  checks = {
    {name = "numeric_zero", sql = [[SELECT 0::numeric(30,20)]]},
    {name = "real_tenth", sql = [[SELECT 0.1::float4]], expected = "0.1"},
    {name = "double_sum", sql = [[SELECT 0.1::float8 + 0.2::float8]], expected = "0.30000000000000004"},
    {name = "numeric_huge", sql = [[SELECT 12345678901234567890.5::numeric]], expected = "12345678901234567890.5"},
  },
}

return m:main()
