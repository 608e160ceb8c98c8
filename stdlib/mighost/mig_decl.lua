-- mighost.mig_decl: the shape of a migration declaration. Every key at every level is checked
-- against what the framework reads, so a misspelled key (`chekcs = {…}`) is an error instead of a
-- silently ignored field; errors name the script's line of the key (found in the script's source:
-- Lua keeps no line numbers for table fields).
local script = require "mighost.script"

local decl = {}

local function set(list)
  local s = {}
  for _, k in ipairs(list) do s[k] = true end
  return s
end

decl.TOP = set {"name", "description", "connections", "ledger", "backup", "preconditions", "prepare", "setup",
                "phases", "sets", "finalize", "checks", "rollback", "options", "target_ddl",
                "enums", "alter_ddl", "target_columns"}
decl.PHASE = set {"name", "label", "source", "key", "migrated", "migrated_count", "pending", "fresh", "fetch",
                  "batch", "step", "counts", "workers", "main", "probe", "from", "every", "total"}
decl.MAPPED = set {"name", "label", "source", "key", "target", "map", "rejects", "references", "migrated",
                   "migrated_count", "fresh", "workers", "main", "probe", "from", "every", "check_names", "mode",
                   "also", "after", "derived", "audit"}
decl.SET = set {"name", "source", "key", "migrated", "migrated_count", "pending", "from", "check_names"}
decl.TARGET = set {"table", "key", "owned", "update"}
decl.ALSO = set {"table", "key", "map", "references", "queue", "check_names"}
decl.REJECT = set {1, 2, "code", "when", "detail", "missing", "duplicate"}
decl.REFERENCE = set {1, 2, "table", "key", "rule", "fallback", "required", "deferred", "not_self"}
decl.DERIVED = set {"sql", "key"}
decl.AUDIT = set {"table", "row"}
decl.CHECK = set {"name", "sql", "fn", "count", "expected", "on", "needs"}
decl.PRECONDITION = set {"name", "sql", "check", "expected", "detail", "warn_only", "early"}
decl.CONNECTION = set {"name", "option", "flag", "env", "fallback", "help", "default", "read_only", "snapshot", "schema"}
decl.CHECK_NAMES = set {"accounted", "no_double_resolution", "values", "rejects", "fixups"}
decl.ALSO_CHECK_NAMES = set {"values"}
decl.SET_CHECK_NAMES = set {"accounted"}

local source_lines
local function lines()
  if source_lines == nil then
    source_lines = false
    local f = script.path and io.open(script.path, "r")
    if f then
      source_lines = {}
      for l in f:lines() do source_lines[#source_lines + 1] = l end
      f:close()
    end
  end
  return source_lines or {}
end

local function pattern_escape(s) return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end

--- The first line at or after `from` where `key =` (or `["key"] =`) is written; nil when not found.
function decl.line_of(key, from)
  if type(key) ~= "string" then return nil end
  local k = pattern_escape(key)
  local ls = lines()
  for pass = 1, 2 do
    for i = (pass == 1 and (from or 1) or 1), #ls do
      local l = ls[i]:gsub("%-%-.*$", "")
      if l:find("%f[%w_]" .. k .. "%s*=[^=]") or l:find("%[%s*[\"']" .. k .. "[\"']%s*%]%s*=") then return i end
    end
  end
  return nil
end

--- The line of a phase, set or check declared with `name = "<name>"`.
function decl.line_of_name(name, from)
  local ls = lines()
  local pat = "name%s*=%s*[\"']" .. pattern_escape(tostring(name)) .. "[\"']"
  for i = from or 1, #ls do
    if ls[i]:find(pat) then return i end
  end
  return nil
end

--- "script.lua:LINE: " (the line of `key` when given, else `line`), or "" without a script file.
function decl.where(line, key)
  local l = (key and decl.line_of(key, line)) or line
  if not script.path then return "" end
  return script.path .. ":" .. tostring(l or "?") .. ": "
end

local function distance(a, b)
  if math.abs(#a - #b) > 2 then return 3 end
  local prev = {}
  for j = 0, #b do prev[j] = j end
  for i = 1, #a do
    local cur = {[0] = i}
    for j = 1, #b do
      local cost = a:sub(i, i) == b:sub(j, j) and 0 or 1
      cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
    end
    prev = cur
  end
  return prev[#b]
end

local function suggestion(key, allowed)
  if type(key) ~= "string" then return "" end
  local best, best_d
  for k in pairs(allowed) do
    if type(k) == "string" then
      local d = distance(key, k)
      if d <= 2 and (not best_d or d < best_d or (d == best_d and k < best)) then best, best_d = k, d end
    end
  end
  return best and (" (did you mean '" .. best .. "'?)") or ""
end

local function names(allowed)
  local out = {}
  for k in pairs(allowed) do if type(k) == "string" then out[#out + 1] = k end end
  table.sort(out)
  return table.concat(out, ", ")
end

--- Raises "script.lua:LINE: migration.define: <where>: <msg>".
function decl.fail(line, key, where, msg)
  error(decl.where(line, key) .. "migration.define: " .. (where ~= "" and (where .. ": ") or "") .. msg, 0)
end

--- Every key of table t must be in `allowed`; `where` names the table ("phases[2] (items)").
function decl.keys(t, allowed, where, line)
  if type(t) ~= "table" then return end
  local bad = {}
  for k in pairs(t) do
    if not allowed[k] then bad[#bad + 1] = k end
  end
  table.sort(bad, function(a, b) return tostring(a) < tostring(b) end)
  local k = bad[1]
  if k ~= nil then
    decl.fail(line, k, where, string.format("unknown key '%s'%s; known keys: %s", tostring(k),
      suggestion(k, allowed), names(allowed)))
  end
end

--- The line of the `migration.define` call in the script (the search for keys starts there).
function decl.define_line()
  for level = 3, 6 do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.source and script.path and info.source == "@" .. script.path then return info.currentline end
  end
  return 1
end

return decl
