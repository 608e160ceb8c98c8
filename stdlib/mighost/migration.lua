-- mighost.migration: a migration script is a declaration plus a few functions.
--
--   local migration = require "mighost.migration"
--   local m = migration.define { name = "demo", backup = {...}, preconditions = {...}, setup = fn,
--                                phases = {...}, finalize = fn, checks = {...}, rollback = [[...]] }
--   return m:main()
--
-- The contract is ../shared/spec/README.md; the declaration API is documented in stdlib/README.md
-- (## mighost.migration). This file validates the declaration, parses the script's options and
-- dispatches on the host's command (script.command) to the run (mig_run), verify / rollback
-- (mig_commands) or a worker thread (mig_workers).
local script = require "mighost.script"
local options = require "mighost.mig_options"

local migration = {}
local Migration = {}
Migration.__index = Migration

local function fail(msg) error("migration.define: " .. msg, 3) end

local function list_of(v, what)
  if v == nil then return {} end
  if type(v) ~= "table" then fail(what .. " must be a table") end
  return v
end

local function keys_of(k, where)
  if type(k) == "string" then return {k} end
  if type(k) == "table" and #k > 0 then return k end
  fail(where .. ": key must be a column name or a list of column names")
end

local function normalise_connections(decl)
  if decl.connections == nil then
    return {{name = "db", option = "db", flag = "--db", metavar = "CONNINFO",
             help = "libpq URL or key=value conninfo (default: mighost run --db, DATABASE_URL, the PG* environment)"}}
  end
  local out = {}
  for i, c in ipairs(list_of(decl.connections, "connections")) do
    if type(c) == "string" then c = {name = c} end
    if type(c.name) ~= "string" then fail("connections[" .. i .. "] needs a name") end
    local option = c.option or (c.name == "db" and "db" or (c.name .. "_db"))
    local env = c.env
    if type(env) == "string" then env = {env} end
    out[i] = {name = c.name, option = option, flag = c.flag or ("--" .. option:gsub("_", "-")), env = env or {},
              fallback = c.fallback, metavar = "CONNINFO",
              help = c.help or ("libpq URL or conninfo of the " .. c.name .. " database")}
  end
  return out
end

--- `backup = {"t1", "s.t2"}` (in-database copy mig_backup_<name>.<table>), plus optional fields:
--- `dir = "backups"` (also a file backup there on every applied run; --backup-dir overrides),
--- `copy = false` (no in-database copy), `tables = {...}` (instead of the list part).
local function normalise_backup(decl, def)
  local b = list_of(decl.backup, "backup")
  local tables = {}
  for _, t in ipairs(list_of(b.tables, "backup.tables")) do tables[#tables + 1] = t end
  for _, t in ipairs(b) do tables[#tables + 1] = t end
  for i, t in ipairs(tables) do
    if type(t) ~= "string" or t == "" then fail("backup[" .. i .. "] must be a table name") end
  end
  for k in pairs(b) do
    if type(k) ~= "number" and k ~= "tables" and k ~= "dir" and k ~= "copy" then
      fail("backup: unknown field '" .. tostring(k) .. "' (tables, dir, copy)")
    end
  end
  if b.dir ~= nil and (type(b.dir) ~= "string" or b.dir == "") then fail("backup.dir must be a directory path") end
  def.backup, def.backup_dir, def.backup_copy = tables, b.dir, b.copy ~= false
end

--- The options every migration has, then the script's own (which may override a common one's
--- fields, e.g. batch_size = {default = 100}, or remove it with `limit = false`).
local function build_options(decl, def)
  local list = {}
  for _, c in ipairs(def.connections) do
    list[#list + 1] = {name = c.option, type = "string", flag = c.flag, metavar = "CONNINFO", help = c.help}
  end
  local common = {
    {name = "dry_run", type = "bool", help = "run everything in one transaction, then roll it back; report what would change"},
    {name = "batch_size", type = "int", default = 500, min = 1, help = "source rows per batch (one transaction each)"},
    {name = "limit", type = "int", min = 1, help = "process at most N unresolved rows of the main source set (status partial)"},
    {name = "report", type = "path", metavar = "PATH", help = "JSON report file (default reports/" .. def.name .. "-<UTC time>.json)"},
    {name = "stop_file", type = "path", metavar = "PATH", help = "stop at the next batch boundary while this file exists (default " .. def.name .. ".stop)"},
    {name = "strict", type = "bool", help = "refuse to run when the script changed since a recorded run"},
    {name = "backup_dir", type = "path", metavar = "DIR", default = def.backup_dir,
     help = "before any change, write a file backup of the declared backup tables (" ..
            (#def.backup > 0 and table.concat(def.backup, ", ") or "none declared") ..
            ") into a new DIR/" .. def.name .. "-<run>-<UTC time>, verify it and record it in mig_meta.runs.backup;" ..
            " if that fails the run is refused (exit 2) with nothing changed"},
    {name = "lock_timeout", type = "duration", default = "5s", help = "lock_timeout of every session; 0 = none"},
    {name = "statement_timeout", type = "duration", default = "30min", help = "statement_timeout of every session; 0 = none"},
  }
  local wants_workers = false
  for _, p in ipairs(def.phases) do wants_workers = wants_workers or p.workers end
  if wants_workers then
    common[#common + 1] = {name = "workers", type = "int", default = 1, min = 1, max = 16,
                           help = "threads (own session each) for the phases that allow it"}
  end
  local own = options.normalise(decl.options or {})
  local by_name = {}
  for _, s in ipairs(own) do by_name[s.name] = s end
  for _, s in ipairs(common) do
    local o = by_name[s.name]
    if o and o.disabled then
      s.disabled = true
    elseif o then
      for k, v in pairs(o) do s[k] = v end
    end
    by_name[s.name] = nil
    list[#list + 1] = s
  end
  for _, s in ipairs(own) do
    if by_name[s.name] then list[#list + 1] = s end
  end
  list[#list + 1] = {name = "help", type = "bool", hidden = true}
  list[#list + 1] = {name = "yes", type = "bool", hidden = true}
  return list
end

local function normalise_set(s, where, def)
  if type(s.name) ~= "string" then fail(where .. " needs a name") end
  if s.source == nil then fail(where .. " (" .. s.name .. ") needs a source query") end
  if s.migrated == nil and s.migrated_count == nil then
    fail(where .. " (" .. s.name .. ") needs `migrated` (an SQL predicate over alias s) or `migrated_count`")
  end
  s.keys = keys_of(s.key, where .. " (" .. s.name .. ")")
  s.from = s.from or def.ledger
  return s
end

--- Validates and completes a declaration; returns the migration object (call :main() on it).
function migration.define(decl)
  if type(decl) ~= "table" then fail("expects a table") end
  local def = setmetatable({}, Migration)
  def.name = decl.name or script.name
  if type(def.name) ~= "string" or not def.name:match("^[%a_][%w_]*$") then
    fail("name must be an identifier (it names the lock, mig_meta rows and mig_backup_<name>)")
  end
  def.description = decl.description or ""
  def.connections = normalise_connections(decl)
  local names = {}
  for _, c in ipairs(def.connections) do names[c.name] = true end
  def.ledger = decl.ledger or (names.target and "target") or def.connections[1].name
  if not names[def.ledger] then fail("ledger names no declared connection: " .. tostring(def.ledger)) end
  normalise_backup(decl, def)
  def.preconditions = list_of(decl.preconditions, "preconditions")
  for i, p in ipairs(def.preconditions) do
    if type(p.name) ~= "string" or (p.check == nil and p.sql == nil) then
      fail("preconditions[" .. i .. "] needs a name and a check function or sql")
    end
  end
  def.prepare, def.setup, def.finalize = decl.prepare, decl.setup, decl.finalize
  def.phases = list_of(decl.phases, "phases")
  def.sets = list_of(decl.sets, "sets")
  def.set_names, def.order = {}, {}
  for i, p in ipairs(def.phases) do
    local where = "phases[" .. i .. "]"
    if p.step then
      if type(p.name) ~= "string" then fail(where .. " needs a name") end
    else
      normalise_set(p, where, def)
      if type(p.batch) ~= "function" then fail(where .. " (" .. p.name .. ") needs a batch function (or a step function)") end
      if p.fetch ~= nil and p.fetch ~= "rows" and p.fetch ~= "range" then
        fail(where .. " (" .. p.name .. "): fetch must be \"rows\" (default) or \"range\", not " .. tostring(p.fetch))
      end
      if p.fetch == "range" and p.from ~= def.ledger then   -- ctx.window.source exists only there
        fail(where .. " (" .. p.name .. "): fetch = \"range\" needs its source on the ledger connection ("
          .. def.ledger .. "), not " .. tostring(p.from))
      end
      def.set_names[#def.set_names + 1] = p.name
      if p.main or not def.main_phase then def.main_phase = p end
    end
    p.label = p.label or p.name
    def.order[#def.order + 1] = p.name
  end
  for i, s in ipairs(def.sets) do
    normalise_set(s, "sets[" .. i .. "]", def)
    def.set_names[#def.set_names + 1] = s.name
    def.order[#def.order + 1] = s.name
  end
  def.checks = list_of(decl.checks, "checks")
  for i, c in ipairs(def.checks) do
    if type(c.name) ~= "string" or (c.sql == nil and c.fn == nil) then fail("checks[" .. i .. "] needs a name and sql or fn") end
  end
  def.rollback = decl.rollback
  def.option_list = build_options(decl, def)
  return def
end

function Migration:usage()
  return string.format("usage: mighost run %s [options]", script.path or (self.name .. ".lua"))
end

--- Parses the script's arguments and runs the command the host says (script.command). Returns the
--- exit code.
function Migration:main()
  local values, given, err = options.parse(self.option_list, script.args or {})
  if not values then
    io.stderr:write(string.format("mighost: %s: %s (see: mighost run %s --help)\n", self.name, err,
      script.path or "SCRIPT"))
    return 64
  end
  if values.help then
    io.stdout:write(options.help(self.option_list, self:usage(), self.description))
    return 0
  end
  local worker = require "mighost.worker"
  local job = worker.job()
  if job then return require("mighost.mig_run").worker(self, values, job) end
  if script.command == "verify" then return require("mighost.mig_commands").verify(self, values) end
  if script.command == "rollback" then return require("mighost.mig_commands").rollback(self, values) end
  return require("mighost.mig_run").run(self, values, given)
end

return migration
