-- mighost.mig_spool: the report's rejects and fixups, read from mig_meta through a cursor and
-- spooled to temporary files as JSON, so that a run with a million rejects keeps its memory flat
-- (the report and the summary stream or count them instead of holding them as Lua tables). Taken
-- inside the run's last transaction (a dry run's is rolled back right after).
local json = require "mighost.mig_json"

local spool = {}
local Spool = {}
Spool.__index = Spool

local QUERIES = {
  rejects = {[[SELECT source_table, source_key, reason, detail FROM mig_meta.rejects
      WHERE migration = $1 ORDER BY source_table, source_key COLLATE "C"]],
    {"source_table", "source_key", "reason", "detail"}, "reason"},
  fixups = {[[SELECT source_table, source_key, field, rule, old_value, new_value FROM mig_meta.fixups
      WHERE migration = $1 ORDER BY source_table, source_key COLLATE "C", field]],
    {"source_table", "source_key", "field", "rule", "old_value", "new_value"}, "rule"},
}

local function empty(kind)
  return setmetatable({kind = kind, n = 0, by = {}}, Spool)
end

local function take_one(conn, migration, kind)
  local q = QUERIES[kind]
  local s = empty(kind)
  s.path = os.tmpname()
  local f = assert(io.open(s.path, "w"))
  conn:each(q[1], {migration}, function(row)
    if s.n > 0 then f:write(",\n") end
    f:write(json.encode(json.object(q[2], row)))
    s.n = s.n + 1
    local k = row[q[3]]
    s.by[k] = (s.by[k] or 0) + 1
    if s.n % 256 == 0 then collectgarbage("step", 64) end   -- the rows' garbage goes as it comes
  end)
  f:close()
  return s
end

--- The rejects and fixups of a migration, spooled (two Spool objects; empty ones when mig_meta is absent).
function spool.take(conn, migration)
  if conn:scalar("SELECT to_regclass('mig_meta.fixups') IS NULL") then return empty("rejects"), empty("fixups") end
  return take_one(conn, migration, "rejects"), take_one(conn, migration, "fixups")
end

function spool.is(v) return getmetatable(v) == Spool end

--- "N (code n, …)" for the summary line.
function Spool:tally()
  local names, parts = {}, {}
  for k in pairs(self.by) do names[#names + 1] = tostring(k) end
  table.sort(names)
  for _, k in ipairs(names) do parts[#parts + 1] = k .. " " .. self.by[k] end
  return self.n .. (#parts > 0 and (" (" .. table.concat(parts, ", ") .. ")") or "")
end

--- Writes the list as a JSON array into file f, block by block.
function Spool:write_json(f)
  f:write("[")
  if self.path then
    local src = assert(io.open(self.path, "r"))
    while true do
      local block = src:read(65536)
      if not block then break end
      f:write(block)
      collectgarbage("step", 64)   -- blocks read are garbage at once: keep the heap flat
    end
    src:close()
  end
  f:write("]")
end

function Spool:remove()
  if self.path then os.remove(self.path) end
  self.path = nil
end

return spool
