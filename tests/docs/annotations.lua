-- The lua-language-server annotations (stdlib/annotations) against what this binary really
-- offers, enumerated at run time: every field of the public mighost.* modules (package.preload;
-- mighost.mig_* are the framework's internals), every method of the host's metatables (registry
-- entries named mighost.*), ctx's fields and methods, the Migration object's methods, and every key
-- of every declaration table the framework accepts (mighost.mig_decl). One MISSING line per gap;
-- exit 1 when there is one.
--   mighost run tests/docs/annotations.lua -- stdlib/annotations
local script = require "mighost.script"

local dir = assert(script.args[1], "usage: annotations.lua ANNOTATIONS_DIR")

-- class name -> set of member names, read from the annotation files: `---@class C` then
-- `local X = {}` binds X to C; `function X.f` / `function X:f` and `---@field f` add members.
local members, files = {}, 0
local function add(class, name)
  members[class] = members[class] or {}
  members[class][name] = true
end
local list = assert(io.popen("find '" .. dir .. "' -name '*.lua' | sort"))
local broken = {}
for path in list:lines() do
  files = files + 1
  local ok, err = loadfile(path)   -- valid Lua, as lua-language-server parses it
  if not ok then broken[#broken + 1] = "BROKEN " .. err end
  local class, pending_class, class_of = nil, nil, {}
  for line in io.lines(path) do
    local c = line:match("^%-%-%-@class%s+([%w_.]+)")
    local field = line:match("^%-%-%-@field%s+([%w_]+)") or line:match("^%-%-%-@field%s+(%[%d+%])")
    local var = line:match("^local%s+([%w_]+)%s*=%s*{}")
    local owner, fn = line:match("^function%s+([%w_]+)[.:]([%w_]+)%s*%(")
    if c then class, pending_class = c, c; members[c] = members[c] or {}
    elseif field and class then add(class, field)
    elseif var and pending_class then class_of[var], pending_class = pending_class, nil
    elseif owner and class_of[owner] then add(class_of[owner], fn) end
    if not c and not line:match("^%-%-%-") and not var then pending_class = nil end
  end
end
list:close()

local missing, checked = broken, 0
local function expect(class, name, what)
  checked = checked + 1
  if not (members[class] and members[class][name]) then
    missing[#missing + 1] = string.format("MISSING %s.%s (%s)", class, tostring(name), what)
  end
end
local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

-- 1. The public modules: every field, functions and values alike.
local modules = {}
for name in pairs(package.preload) do
  if name:match("^mighost%.[%w_]+$") and not name:match("^mighost%.mig_") then modules[#modules + 1] = name end
end
table.sort(modules)
for _, name in ipairs(modules) do
  local m = require(name)
  if type(m) == "table" then
    for _, k in ipairs(sorted_keys(m)) do expect(name, k, "field of the module") end
  end
end

-- 2. The host's metatables: each must be a class; its methods (__index and its own non-meta
-- functions) members of it.
for _, name in ipairs(sorted_keys(debug.getregistry())) do
  local mt = debug.getregistry()[name]
  if type(name) == "string" and name:match("^mighost%.") and type(mt) == "table" then
    checked = checked + 1
    if not members[name] then missing[#missing + 1] = "MISSING class " .. name .. " (a host metatable)" end
    local methods = type(mt.__index) == "table" and mt.__index or {}
    for _, k in ipairs(sorted_keys(methods)) do
      if type(methods[k]) == "function" then expect(name, k, "method") end
    end
    for _, k in ipairs(sorted_keys(mt)) do
      if type(mt[k]) == "function" and not tostring(k):match("^__") then expect(name, k, "method") end
    end
  end
end

-- 3. ctx: the fields a new ctx has and its methods (but the framework's own, named `_…`).
local context = require "mighost.mig_context"
local ctx = context.new_ctx({def = {name = "annotations", ledger = "db"}, values = {}, conns = {}, ledger = {}})
for _, k in ipairs(sorted_keys(ctx)) do
  if not tostring(k):match("^_") then expect("mighost.migration.Ctx", k, "ctx field") end
end
for _, k in ipairs(sorted_keys(getmetatable(ctx).__index)) do
  if type(getmetatable(ctx).__index[k]) == "function" and not tostring(k):match("^_") then
    expect("mighost.migration.Ctx", k, "ctx method")
  end
end
for _, k in ipairs({"phase", "window"}) do expect("mighost.migration.Ctx", k, "ctx field set per phase") end

-- 4. The Migration object.
local migration = require "mighost.migration"
local m = migration.define {name = "annotations", phases = {{name = "p", step = function() return 0 end}}}
for _, k in ipairs(sorted_keys(getmetatable(m).__index)) do
  if type(getmetatable(m).__index[k]) == "function" then expect("mighost.migration.Migration", k, "method") end
end

-- 5. Every declaration key. A new key table in mig_decl needs a class here too.
local CLASS_OF = {
  TOP = "mighost.migration.Declaration", PHASE = "mighost.migration.Phase", MAPPED = "mighost.migration.Phase",
  SET = "mighost.migration.SetDecl", TARGET = "mighost.migration.Target", ALSO = "mighost.migration.AlsoTarget",
  REJECT = "mighost.migration.Reject", REFERENCE = "mighost.migration.Reference",
  DERIVED = "mighost.migration.Derived", AUDIT = "mighost.migration.Audit", CHECK = "mighost.migration.Check",
  PRECONDITION = "mighost.migration.Precondition", CONNECTION = "mighost.migration.ConnectionDecl",
  CHECK_NAMES = "mighost.migration.CheckNames", ALSO_CHECK_NAMES = "mighost.migration.AlsoCheckNames",
  SET_CHECK_NAMES = "mighost.migration.SetCheckNames",
}
local decl = require "mighost.mig_decl"
for _, table_name in ipairs(sorted_keys(decl)) do
  local keys = decl[table_name]
  if type(table_name) == "string" and table_name:match("^[A-Z_]+$") and type(keys) == "table" then
    local class = CLASS_OF[table_name]
    if not class then
      missing[#missing + 1] = "MISSING a class for mig_decl." .. table_name .. " (add it to CLASS_OF and the annotations)"
    else
      for _, k in ipairs(sorted_keys(keys)) do
        expect(class, type(k) == "number" and ("[" .. k .. "]") or k, "declaration key of mig_decl." .. table_name)
      end
    end
  end
end

for _, l in ipairs(missing) do print(l) end
print(string.format("annotations: %d files, %d names checked, %d missing", files, checked, #missing))
return #missing == 0 and 0 or 1
