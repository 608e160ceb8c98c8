-- mighost.mig_mapping_decl: the parts of a declared phase that are parsed and checked alone — its
-- column `map`, its `references`, its `derived` values and its `audit` rows — for mig_mapping.
local decl = require "mighost.mig_decl"

local parse = {}

--- A key (a column name or a list of them) as a list.
function parse.list(v) return type(v) == "table" and v or {v} end

--- m.columns (sorted), m.map (SQL values) and m.lua_map (Lua functions) from a declared `map`.
function parse.map(m, map, fail)
  if type(map) ~= "table" or next(map) == nil then fail("map", "needs `map`: target column = SQL expression over s, or a function(row)") end
  m.columns, m.map, m.lua_map = {}, {}, {}
  for col, v in pairs(map) do
    if type(col) ~= "string" then fail("map", "map keys must be target column names") end
    local kind = type(v)
    if kind == "function" then m.lua_map[col] = v
    elseif kind == "string" or (kind == "table" and (type(v.sql) == "string" or type(v.sql) == "function")) then
      m.map[col] = v
    else
      fail(col, "map." .. col .. " must be an SQL expression, {sql = …} or a function(row, ctx)")
    end
    m.columns[#m.columns + 1] = col
  end
  table.sort(m.columns)
end

--- m.refs from declared `references` (in column order).
function parse.refs(m, refs, where, line, fail)
  m.refs = {}
  local ref_cols = {}
  for col in pairs(refs or {}) do ref_cols[#ref_cols + 1] = col end
  table.sort(ref_cols)
  for _, col in ipairs(ref_cols) do
    local r = refs[col]
    decl.keys(r, decl.REFERENCE, where .. ".references." .. tostring(col), line)
    local rt, rk = r.table or r[1], r.key or r[2]
    if not m.map[col] then fail(col, "references." .. col .. " needs an SQL mapping of " .. col .. " in `map`") end
    if type(rt) ~= "string" or type(rk) ~= "string" or type(r.rule) ~= "string" then
      fail(col, "references." .. col .. " must be {table, key, rule = \"code\"}")
    end
    if r.fallback ~= nil and type(r.fallback) ~= "string" then
      fail(col, "references." .. col .. ".fallback must be an SQL expression (the value a dangling reference gets)")
    end
    if r.required and not r.fallback then
      fail(col, "references." .. col .. ".required needs a fallback (the value a NULL reference gets)")
    end
    m.refs[#m.refs + 1] = {column = col, table = rt, key = rk, rule = r.rule, fallback = r.fallback,
                           required = r.required == true, deferred = r.deferred == true, not_self = r.not_self == true}
  end
end

--- `derived = {sql = [[SELECT <key>, … FROM …]], key = …}` (or the SQL alone; key defaults to
--- the source key): values that depend on the whole set (numbers unique across rows, the first
--- row of a group), computed once per run before the phase's first batch and read by the map,
--- the rules and their details as d.<column> (a row per source key, joined on the key).
function parse.derived(v, m, fail, where, line)
  if v == nil then return nil end
  if type(v) == "string" then v = {sql = v} end
  if type(v) ~= "table" or (type(v.sql) ~= "string" and type(v.sql) ~= "function") then
    fail("derived", "derived must be SQL (or {sql = …, key = …}) returning the source key and the derived columns")
  end
  decl.keys(v, decl.DERIVED, where .. ".derived", line)
  return {sql = v.sql, keys = v.key and parse.list(v.key) or m.keys}
end

--- `audit = {table = "audit_logs", row = {column = SQL, …}}`: one row per migrated row, written in
--- the batch's statement. Its SQL reads s (the source row as declared) and t (the target row as
--- written: inserted or updated).
function parse.audit(v, fail, where, line)
  if v == nil then return nil end
  if type(v) ~= "table" or type(v.table) ~= "string" or type(v.row) ~= "table" or next(v.row) == nil then
    fail("audit", "audit must be {table = \"…\", row = {column = SQL over s and t, …}}")
  end
  decl.keys(v, decl.AUDIT, where .. ".audit", line)
  local cols = {}
  for c, e in pairs(v.row) do
    if type(c) ~= "string" or type(e) ~= "string" then fail("audit", "audit.row maps column names to SQL") end
    cols[#cols + 1] = c
  end
  table.sort(cols)
  return {table = v.table, columns = cols, row = v.row}
end

return parse
