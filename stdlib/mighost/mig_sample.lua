-- mighost.mig_sample: the report's rejects and fixups — their counts (in all and per reason or
-- rule) and a bounded sample of the rows, read from mig_meta (which holds the full lists) at the
-- end of the run, inside its last transaction (a dry run's is rolled back right after). A report
-- stays small however many rows a migration rejects or repairs.
local json = require "mighost.mig_json"

local sample = {}

--- Rows of each list that a report holds (the first ones in key order).
sample.SIZE = 100

--- Fields: kind ("rejects" | "fixups"), n (rows in mig_meta), by (reason / rule -> rows), rows
--- (the sample: at most sample.SIZE JSON objects), table (where the full list is), migration.
local Sample = {}
Sample.__index = Sample

local QUERIES = {
  rejects = {[[SELECT source_table, source_key, reason, detail FROM mig_meta.rejects
      WHERE migration = $1 ORDER BY source_table, source_key COLLATE "C" LIMIT $2]],
    {"source_table", "source_key", "reason", "detail"}, "reason"},
  fixups = {[[SELECT source_table, source_key, field, rule, old_value, new_value FROM mig_meta.fixups
      WHERE migration = $1 ORDER BY source_table, source_key COLLATE "C", field LIMIT $2]],
    {"source_table", "source_key", "field", "rule", "old_value", "new_value"}, "rule"},
}

local function empty(kind, migration)
  return setmetatable({kind = kind, n = 0, by = {}, rows = json.array(), migration = migration,
                       table = "mig_meta." .. kind}, Sample)
end

local function take_one(conn, migration, kind)
  local q = QUERIES[kind]
  local s = empty(kind, migration)
  for _, r in ipairs(conn:query("SELECT " .. q[3] .. " AS k, count(*) AS n FROM mig_meta." .. kind
      .. " WHERE migration = $1 GROUP BY 1", migration)) do
    s.by[r.k] = tonumber(r.n)
    s.n = s.n + tonumber(r.n)
  end
  for _, row in ipairs(conn:query(q[1], migration, sample.SIZE)) do
    s.rows[#s.rows + 1] = json.object(q[2], row)
  end
  return s
end

--- The rejects and fixups of a migration (two Samples; empty ones when mig_meta is absent).
function sample.take(conn, migration)
  if conn:scalar("SELECT to_regclass('mig_meta.fixups') IS NULL") then return empty("rejects", migration), empty("fixups", migration) end
  return take_one(conn, migration, "rejects"), take_one(conn, migration, "fixups")
end

function sample.is(v) return getmetatable(v) == Sample end

--- "N (code n, …)" for the summary line.
function Sample:tally()
  local names, parts = {}, {}
  for k in pairs(self.by) do names[#names + 1] = tostring(k) end
  table.sort(names)
  for _, k in ipairs(names) do parts[#parts + 1] = k .. " " .. self.by[k] end
  return self.n .. (#parts > 0 and (" (" .. table.concat(parts, ", ") .. ")") or "")
end

--- The counts for the report: {total, by_<reason|rule>, listed, full_list}.
function Sample:counts_json()
  local per = self.kind == "rejects" and "by_reason" or "by_rule"
  local names, by = {}, {}
  for k, v in pairs(self.by) do names[#names + 1] = tostring(k); by[tostring(k)] = v end
  table.sort(names)
  return json.object({"total", per, "listed", "full_list"}, {total = self.n, [per] = json.object(names, by),
    listed = #self.rows, full_list = string.format("%s WHERE migration = '%s'", self.table, self.migration)})
end

return sample
