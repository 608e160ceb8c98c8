-- mighost.migration: a migration script is a declaration plus a few functions.
--
--   local migration = require "mighost.migration"
--   local m = migration.define { name = "demo", backup = {...}, preconditions = {...}, setup = fn,
--                                phases = {...}, finalize = fn, checks = {...}, rollback = [[...]] }
--   return m:main()
--
-- The lifecycle and the declaration API are documented in stdlib/README.md
-- (## mighost.migration). This file validates the declaration, parses the script's options and
-- dispatches on the host's command (script.command) to the run (mig_lifecycle), verify / rollback
-- (mig_commands) or a worker thread (mig_workers). stdlib/README.md ("The framework inside")
-- draws how those modules divide the run's state.
local script = require "mighost.script"
local options = require "mighost.mig_options"
local decl = require "mighost.mig_decl"
local targets = require "mighost.mig_targets"

local migration = {}
local Migration = {}
Migration.__index = Migration

-- The line of the migration.define call in the script; errors name the line of the faulty key.
local define_line = 1
local function fail(msg, key) decl.fail(define_line, key, "", msg) end

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

local function normalise_connections(src)
  if src.connections == nil then
    return {{name = "db", option = "db", flag = "--db", metavar = "CONNINFO",
             help = "libpq URL or key=value conninfo (default: mighost run --db, DATABASE_URL, the PG* environment)"}}
  end
  local out = {}
  for i, c in ipairs(list_of(src.connections, "connections")) do
    if type(c) == "string" then c = {name = c} end
    decl.keys(c, decl.CONNECTION, "connections[" .. i .. "]", define_line)
    if type(c.name) ~= "string" then fail("connections[" .. i .. "] needs a name", "connections") end
    local option = c.option or (c.name == "db" and "db" or (c.name .. "_db"))
    local env = c.env
    if type(env) == "string" then env = {env} end
    if c.default ~= nil and c.default ~= "libpq" then fail("connections[" .. i .. "].default must be \"libpq\"", "default") end
    if c.schema ~= nil and type(c.schema) ~= "string" then
      fail("connections[" .. i .. "].schema must name an option (its value becomes the session's search_path)", "schema")
    end
    out[i] = {name = c.name, option = option, flag = c.flag or ("--" .. option:gsub("_", "-")), env = env or {},
              fallback = c.fallback, metavar = "CONNINFO", default = c.default,
              read_only = c.read_only == true or c.snapshot == true, snapshot = c.snapshot == true, schema = c.schema,
              help = c.help or ("libpq URL or conninfo of the " .. c.name .. " database")}
  end
  return out
end

--- `backup = {"t1", "s.t2"}` (in-database copy mig_backup_<name>.<table>), plus optional fields:
--- `dir = "backups"` (also a file backup there on every applied run; --backup-dir overrides),
--- `copy = false` (no in-database copy), `tables = {...}` (instead of the list part).
local JSON_BACKUP = {format = true, from = true, tables = true, prefix = true, meta = true, dir = true,
                     dry_run = true, order_by = true}

--- `backup = {format = "json", from = "source", tables = {…} | function(ctx), prefix = "rds",
--- dir = ".", meta = function(ctx) -> {k = v}, order_by = "id", dry_run = true}`: seed 004's JSON
--- file backup of the tables of connection `from`, read in its snapshot, before any change.
local function normalise_json_backup(b, def)
  for k in pairs(b) do
    if not JSON_BACKUP[k] then fail("backup: unknown key '" .. tostring(k) .. "' for format = \"json\"", k) end
  end
  local from = b.from or def.ledger
  local known = false
  for _, c in ipairs(def.connections) do known = known or c.name == from end
  if not known then fail("backup.from names no declared connection: " .. tostring(from), "from") end
  if type(b.tables) ~= "table" and type(b.tables) ~= "function" then
    fail("backup.tables must be a list of table names or a function(ctx) returning one", "tables")
  end
  def.backup_json = {from = from, tables = b.tables, prefix = b.prefix or def.name, meta = b.meta,
                     order_by = b.order_by, dry_run = b.dry_run == true}
  def.backup, def.backup_dir, def.backup_copy = {}, b.dir or ".", false
end

local function normalise_backup(src, def)
  if type(src.backup) == "table" and src.backup.format == "json" then return normalise_json_backup(src.backup, def) end
  local b = list_of(src.backup, "backup")
  local tables = {}
  for _, t in ipairs(list_of(b.tables, "backup.tables")) do tables[#tables + 1] = t end
  for _, t in ipairs(b) do tables[#tables + 1] = t end
  for i, t in ipairs(tables) do
    if type(t) ~= "string" or t == "" then fail("backup[" .. i .. "] must be a table name") end
  end
  for k in pairs(b) do
    if type(k) ~= "number" and k ~= "tables" and k ~= "dir" and k ~= "copy" then
      fail("backup: unknown key '" .. tostring(k) .. "' (tables, dir, copy; or format = \"json\")", k)
    end
  end
  if b.dir ~= nil and (type(b.dir) ~= "string" or b.dir == "") then fail("backup.dir must be a directory path") end
  def.backup, def.backup_dir, def.backup_copy = tables, b.dir, b.copy ~= false
end

--- The options every migration has, then the script's own (which may override a common one's
--- fields, e.g. batch_size = {default = 100}, or remove it with `limit = false`).
local function build_options(src, def)
  local list = {}
  for _, c in ipairs(def.connections) do
    list[#list + 1] = {name = c.option, type = "string", flag = c.flag, metavar = "CONNINFO", help = c.help}
  end
  local common = {
    {name = "dry_run", type = "bool", help = "run everything in one transaction, then roll it back; report what would change"},
    {name = "batch_size", type = "int", default = 500, min = 1, help = "source rows per batch (one transaction each); given here, every batch asks for exactly N"},
    {name = "batch_time", type = "duration", default = "500ms", help = "without --batch-size, batches start at the default size and grow (2 to 8 times) while one commits in under half this time, to what its pace fits in that half (at most 64 times the default); 0 keeps the default size"},
    {name = "limit", type = "int", min = 1, help = "process at most N unresolved rows of the main source set (status partial)"},
    {name = "report", type = "path", metavar = "PATH", help = "JSON report file (default reports/" .. def.name .. "-<UTC time>.json)"},
    {name = "stop_file", type = "path", metavar = "PATH", default = def.name .. ".stop", help = "stop at the next batch boundary while this file exists"},
    {name = "strict", type = "bool", help = "refuse to run when the script changed since a recorded run"},
    def.backup_json and {name = "backup_dir", type = "path", metavar = "DIR", default = def.backup_dir,
     help = "directory of the JSON backup " .. def.backup_json.prefix .. "_backup_<UTC time>.json (default "
       .. def.backup_dir .. "), written from one snapshot before any change" .. (def.backup_json.dry_run and
       " (also in a dry run)" or "") .. ", read back and checked; a failure ends the run (exit 1) with nothing written"}
    or {name = "backup_dir", type = "path", metavar = "DIR", default = def.backup_dir,
     help = "before any change, write a file backup of the declared backup tables (" ..
            (#def.backup > 0 and table.concat(def.backup, ", ") or "none declared") ..
            ") into a new DIR/" .. def.name .. "-<run>-<UTC time>, verify it and record it in mig_meta.runs.backup;" ..
            " if that fails the run is refused (exit 2) with nothing changed"},
    {name = "lock_timeout", type = "duration", default = "5s", help = "lock_timeout of every session; 0 = none"},
    {name = "lock_retries", type = "int", default = 5, min = 0, max = 100,
     help = "a batch that hits the lock timeout, a deadlock or a serialization failure is rolled back and retried this many times (pauses 0.25s doubling to 4s), then the run fails naming the blocking session"},
    {name = "statement_timeout", type = "duration", default = "30min", help = "statement_timeout of every session; 0 = none"},
  }
  for _, s in ipairs(require("mighost.mig_throttle").options) do common[#common + 1] = s end
  common[#common + 1] = {name = "progress_every", type = "duration", metavar = "DURATION",
                         help = "at most one PROGRESS line per DURATION, e.g. 10s (a phase's last line is always printed)"}
  local wants_workers = false
  for _, p in ipairs(def.phases) do wants_workers = wants_workers or p.workers end
  if wants_workers then
    common[#common + 1] = {name = "workers", type = "int", default = 1, min = 1, max = 16,
                           help = "threads (own session each) for the phases that allow it"}
  end
  local own = options.normalise(src.options or {})
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

local function phase_line(p, i)
  return decl.line_of_name(p.name, define_line) or decl.line_of("phases", define_line) or define_line
end

--- A declared phase (target + map) becomes a runnable phase plus its generated checks.
local function declared_phase(p, where, def, line)
  decl.keys(p, decl.MAPPED, where, line)
  local m = require("mighost.mig_mapping").new(p, def, line)
  def.mapped[#def.mapped + 1] = m
  return normalise_set(m:phase(p), where, def)
end

local function normalise_phases(src, def)
  def.phases, def.mapped = {}, {}
  for i, p in ipairs(list_of(src.phases, "phases")) do
    local where = "phases[" .. i .. "]" .. (type(p.name) == "string" and (" (" .. p.name .. ")") or "")
    local line = phase_line(p, i)
    if type(p.name) ~= "string" then decl.fail(line, nil, where, "needs a name") end
    if p.target ~= nil or p.map ~= nil then
      p = declared_phase(p, where, def, line)
    else
      decl.keys(p, decl.PHASE, where, line)
      if not p.step then
        normalise_set(p, where, def)
        if type(p.batch) ~= "function" then decl.fail(line, nil, where, "needs a batch function, a step function, or target + map") end
        if p.fetch ~= nil and p.fetch ~= "rows" and p.fetch ~= "range" then
          decl.fail(line, "fetch", where, "fetch must be \"rows\" (default) or \"range\", not " .. tostring(p.fetch))
        end
        if p.fetch == "range" and p.from ~= def.ledger then   -- ctx.window.source exists only there
          decl.fail(line, "fetch", where, "fetch = \"range\" needs its source on the ledger connection ("
            .. def.ledger .. "), not " .. tostring(p.from))
        end
      end
    end
    if not p.step then
      def.set_names[#def.set_names + 1] = p.name
      if p.main or not def.main_phase then def.main_phase = p end
      for _, c in ipairs(def.connections) do   -- a worker's session would read another snapshot
        if p.workers and c.snapshot and c.name == (p.from or def.ledger) then
          decl.fail(line, "workers", where, "workers = true cannot read a snapshot connection (" .. c.name .. ")")
        end
      end
    end
    p.label = p.label or p.name
    p.line = line
    def.phases[i] = p
    def.order[#def.order + 1] = p.name
  end
end

local function normalise_checks(src, def)
  local gen = require("mighost.mig_gencheck")
  def.checks = gen.checks(def.mapped)
  for _, c in ipairs(gen.set_checks(def.sets, def)) do def.checks[#def.checks + 1] = c end
  local generated = {}
  for _, c in ipairs(def.checks) do generated[c.name] = true end
  for i, c in ipairs(list_of(src.checks, "checks")) do
    local line = decl.line_of_name(c.name, define_line) or define_line
    local where = "checks[" .. i .. "]" .. (type(c.name) == "string" and (" (" .. c.name .. ")") or "")
    decl.keys(c, decl.CHECK, where, line)
    if type(c.name) ~= "string" or (c.sql == nil and c.fn == nil and c.count == nil) then
      decl.fail(line, nil, where, "needs a name and sql, fn or count")
    end
    if c.count ~= nil then
      if c.sql ~= nil or c.fn ~= nil then decl.fail(line, "count", where, "count replaces sql and fn: give one of them") end
      local function sql_or_fn(v) return type(v) == "string" or type(v) == "function" end
      local ok = type(c.count) == "table" and #c.count > 0
      for _, p in ipairs(ok and c.count or {}) do ok = ok and type(p) == "table" and sql_or_fn(p[1]) and sql_or_fn(p[2]) end
      if not ok then
        decl.fail(line, "count", where, "count must be a list of {from, where} pairs (SQL text or function(ctx) each)")
      end
    end
    if c.needs ~= nil and c.needs ~= "complete" and c.needs ~= "finalize" then
      decl.fail(line, "needs", where, "needs must be \"complete\" (every source row resolved) or \"finalize\"")
    end
    if generated[c.name] then
      decl.fail(line, nil, where, "the declaration already generates a check named " .. c.name
        .. "; list only the checks it cannot imply (or rename the generated one with check_names)")
    end
    def.checks[#def.checks + 1] = c
  end
end

local function normalise_preconditions(src, def)
  def.preconditions = {}
  for i, p in ipairs(list_of(src.preconditions, "preconditions")) do
    local line = decl.line_of_name(p.name, define_line) or define_line
    decl.keys(p, decl.PRECONDITION, "preconditions[" .. i .. "]", line)
    if type(p.name) ~= "string" or (p.check == nil and p.sql == nil) then
      decl.fail(line, nil, "preconditions[" .. i .. "]", "needs a name and a check function or sql")
    end
    def.preconditions[i] = p
  end
end

--- `enums = {name = {"LABEL", …}}`: enum types the migration needs (created when missing, refused
--- when present with other labels).
local function normalise_enums(src, def)
  if src.enums == nil then return end
  if type(src.enums) ~= "table" then fail("enums must be {type_name = {\"LABEL\", …}}", "enums") end
  for name, labels in pairs(src.enums) do
    if type(name) ~= "string" or type(labels) ~= "table" or #labels == 0 then
      fail("enums." .. tostring(name) .. " must be a list of labels", "enums")
    end
    for _, l in ipairs(labels) do
      if type(l) ~= "string" then fail("enums." .. name .. ": labels must be strings", "enums") end
    end
  end
  def.enums = src.enums
end

--- Validates and completes a declaration; returns the migration object (call :main() on it).
function migration.define(src)
  define_line = decl.define_line()
  if type(src) ~= "table" then fail("expects a table") end
  decl.keys(src, decl.TOP, "", define_line)
  local def = setmetatable({}, Migration)
  def.name = src.name or script.name
  if type(def.name) ~= "string" or not def.name:match("^[%a_][%w_]*$") then
    fail("name must be an identifier (it names the lock, mig_meta rows and mig_backup_<name>)", "name")
  end
  def.description = src.description or ""
  def.connections = normalise_connections(src)
  local names = {}
  for _, c in ipairs(def.connections) do names[c.name] = true end
  def.ledger = src.ledger or (names.target and "target") or def.connections[1].name
  if not names[def.ledger] then fail("ledger names no declared connection: " .. tostring(def.ledger), "ledger") end
  for _, c in ipairs(def.connections) do   -- the ledger writes: it cannot be a read-only snapshot
    if c.name == def.ledger and c.read_only then fail("the ledger connection " .. c.name .. " cannot be read_only or snapshot", "connections") end
  end
  normalise_backup(src, def)
  if src.target_ddl ~= nil and type(src.target_ddl) ~= "string" then fail("target_ddl must be SQL text", "target_ddl") end
  def.target_ddl = src.target_ddl
  if src.alter_ddl ~= nil and type(src.alter_ddl) ~= "string" then fail("alter_ddl must be SQL text", "alter_ddl") end
  def.alter_ddl = src.alter_ddl
  if def.alter_ddl and #def.backup == 0 then
    fail("alter_ddl needs `backup`: the tables it changes are backed up first (and read in their legacy shape)", "alter_ddl")
  end
  normalise_enums(src, def)
  if src.target_columns ~= nil and src.target_columns ~= "exact" and src.target_columns ~= "declared" then
    fail("target_columns must be \"declared\" (default: the declared columns, others allowed) or \"exact\"", "target_columns")
  end
  def.target_columns = src.target_columns
  normalise_preconditions(src, def)
  def.prepare = src.prepare
  def.sets = list_of(src.sets, "sets")
  def.set_names, def.order = {}, {}
  normalise_phases(src, def)
  -- Lua of the script's own that may write any table: then no table can be known to stay as it is
  def.scripted_writes = (src.setup or src.finalize or src.prepare or src.alter_ddl) ~= nil
  for _, ph in ipairs(def.phases) do
    def.scripted_writes = def.scripted_writes or not ph.mapped or ph.mapped.after ~= nil
  end
  targets.wrap_ddl(src, def)
  targets.precondition(def)
  -- early: a role that may not create mig_meta is refused before anything is read or written
  def.preconditions[#def.preconditions + 1] = {name = "privileges", early = true,
    check = function(ctx) return require("mighost.mig_privileges").check(ctx, def) end}
  if def.backup_json then   -- after the script's own and target_compatible
    def.preconditions[#def.preconditions + 1] = {name = "backup_writable",
      check = function(ctx) return require("mighost.mig_backup").writable(ctx) end}
  end
  for i, s in ipairs(def.sets) do
    local line = decl.line_of_name(s.name, define_line) or define_line
    decl.keys(s, decl.SET, "sets[" .. i .. "]", line)
    decl.keys(s.check_names, decl.SET_CHECK_NAMES, "sets[" .. i .. "].check_names", line)
    normalise_set(s, "sets[" .. i .. "]", def)
    def.set_names[#def.set_names + 1] = s.name
    def.order[#def.order + 1] = s.name
  end
  normalise_checks(src, def)
  def.rollback = src.rollback
  def.option_list = build_options(src, def)
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
  if given.batch_size then values.batch_time = 0 end   -- the operator's size is kept as given
  local worker = require "mighost.worker"
  local job = worker.job()
  if job then return require("mighost.mig_workers").worker(self, values, job) end
  if script.command == "verify" then return require("mighost.mig_commands").verify(self, values) end
  if script.command == "rollback" then return require("mighost.mig_commands").rollback(self, values) end
  return require("mighost.mig_lifecycle").run(self, values)
end

return migration
