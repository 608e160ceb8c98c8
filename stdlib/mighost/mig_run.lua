-- mighost.mig_run: the Run — one execution of a migration's command (run or dry run, verify,
-- rollback, or a worker thread's part of a phase) and what each of them has: its options, its
-- connections, its Ledger, the script's ctx, its resolved source sets, what stops it, the retry of
-- a batch and the traceback of the last error. The lifecycle of `mighost run` (mig_lifecycle),
-- the commands (mig_commands) and the workers (mig_workers) each drive one.
local log = require "mighost.log"
local script = require "mighost.script"
local sys = require "mighost.sys"
local json = require "mighost.mig_json"
local connect = require "mighost.mig_connect"
local context = require "mighost.mig_context"
local ledger = require "mighost.mig_ledger"
local sets = require "mighost.mig_sets"

local run = {}

--- Fields (read by anyone; written only by Run's methods):
---   def        the migration (mighost.migration's declaration; never changed)
---   values     the parsed options
---   role       "run", "verify", "rollback", "worker N" (in application_name)
---   dry_run    true in a dry run
---   conns      connection name -> connection, once connected; conn: the ledger connection
---   ledger     the mig_ledger Ledger of this migration on conn (its run_id is this run's row)
---   ctx        the script's ctx (mig_context)
---   sets       the resolved source sets (mig_sets), after :resolve_sets
---   stop_file, external_stop   what :stop_reason watches (a worker: the pool's stop flag)
---   shared, worker   a worker's ctx.shared and index
---   traceback  where the last error was raised (nil after a batch that succeeded)
---   file_backup  the file backup copying alongside the phases (mig_backup's own: set by its
---              `file`, cleared by `finish` or `abandon`; watched at every batch boundary)
local Run = {}
Run.__index = Run

--- o: {role, dry_run, run_id (a worker: the main run's), shared, worker, external_stop}.
function run.new(def, values, o)
  o = o or {}
  return setmetatable({def = def, values = values, role = o.role or "run", dry_run = o.dry_run == true,
                       shared = o.shared, worker = o.worker, external_stop = o.external_stop,
                       stop_file = values.stop_file or (def.name .. ".stop"), run_id_given = o.run_id,
                       memos = {}}, Run)
end

--- Opens the declared connections (mig_connect) and builds the Ledger and the ctx on them.
function Run:connect()
  local def = self.def
  local infos, sources = connect.conninfos(def, self.values, script.db)
  self.conns = connect.connect(def, infos, self.values, self.role, sources)
  self.conn = self.conns[def.ledger]
  self.ledger = ledger.new(self.conn, def.name, self.run_id_given)
  self.ctx = context.new_ctx{def = def, values = self.values, conns = self.conns, ledger = self.ledger,
                             dry_run = self.dry_run, shared = self.shared, worker = self.worker, run = self}
  return self
end

function Run:close()
  for _, c in pairs(self.conns or {}) do pcall(c.close, c) end
end

--- Runs fn inside the declared source snapshots (mig_connect.with_snapshots).
function Run:with_snapshots(fn) return connect.with_snapshots(self.def, self.conns, fn) end

--- Resolves the source sets (mig_sets.resolve: the one path of run, verify and workers).
function Run:resolve_sets(exported)
  self.sets = sets.resolve(self.def, self.conns, self.ctx, exported)
end

--- The resolved source set `name`, or nil.
function Run:set(name) return self.sets and self.sets:get(name) end

--- Inserts this run's ledger row; the ctx learns its run_id.
function Run:start(info)
  local id = self.ledger:start(info)
  self.ctx:_set_run_id(id)
  return id
end

function Run:run_id() return self.ledger and self.ledger.run_id end

function Run:prefix() return self.dry_run and "[DRY RUN] " or "" end

--- A value computed once per run (e.g. what alter_ddl inspected before the first change).
function Run:memo(key, fn)
  if self.memos[key] == nil then self.memos[key] = fn() end
  return self.memos[key]
end

--- Why the run should stop at this batch boundary, or nil.
function Run:stop_reason()
  if self.file_backup then require("mighost.mig_backup").watch(self) end   -- raises when it failed
  if self.stop_file and sys.exists(self.stop_file) then return "stop file " .. self.stop_file .. " present" end
  if sys.interrupted() > 0 then return "interrupted (SIGINT/SIGTERM)" end
  if self.external_stop and self.external_stop() then return "stop requested" end
  return nil
end

--- Keeps the traceback of where an error was raised (the first one kept wins unless `replace`).
function Run:keep_traceback(tb, replace)
  if replace or not self.traceback then self.traceback = tb end
end

--- An xpcall handler that keeps the traceback of the error it sees (unless one is kept already).
function Run:handler()
  return function(e)
    self:keep_traceback(debug.traceback("", 2))
    return e
  end
end

local RETRY = {["55P03"] = "lock timeout", ["40P01"] = "deadlock", ["40001"] = "serialization failure"}
--- The pause before retry number `n`: 0.25 s doubling up to 4 s.
local function delay(n) return math.min(4, 0.25 * 2 ^ (n - 1)) end

--- "; blocked by pid N (application_name …, state …, query: …)" when the host saw who blocked
--- the statement (a lock timeout's detail, pg/lock_wait.cpp), else "".
local function blockers(err)
  local d = type(err) == "table" and type(err.detail) == "string" and err.detail or ""
  local b = d:match("blocked by .*$")
  return b and ("; " .. b) or ""
end

--- An SQL error raised by a phase's batch or step names the script's line of that phase: a
--- batch that ends in `return ctx:…(…)` (a tail call) leaves no frame of the script behind, and
--- a declared phase's statements are the framework's, written from the declaration there.
local function point_at_phase(e, ph)
  if type(e) == "table" and e.sqlstate and type(e.text) == "string" and not e.declared_at and ph and ph.line
      and script.path then
    e.declared_at = script.path .. ":" .. ph.line
    e.text = e.declared_at .. ": phase " .. ph.name .. (ph.mapped and " (as declared)" or "") .. ": " .. e.text
  end
  return e
end

--- Runs fn (one batch: a transaction); a lock timeout, deadlock or serialization failure rolls it
--- back and retries it with backoff, then fails with a message a person can act on. The traceback
--- of the last error is kept. ph: the phase whose batch this is.
function Run:with_retry(what, fn, ph)
  local retries = self.values.lock_retries or 5
  for attempt = 1, retries + 1 do
    local ok, err = xpcall(fn, function(e)
      self:keep_traceback(debug.traceback("", 2), true)
      return point_at_phase(e, ph)
    end)
    if ok then
      self.traceback = nil  -- a retried error is not the story of a later failure
      return
    end
    local state = type(err) == "table" and err.sqlstate
    local kind = state and RETRY[state]
    if not kind then error(err, 0) end
    if attempt > retries then
      error(string.format("%s: %s %d times in a row (lock_timeout %s ms, --lock-retries %d)%s. Retry when"
        .. " that session is done, or raise --lock-timeout / --lock-retries. Last error: %s", what, kind, attempt,
        tostring(self.values.lock_timeout), retries, blockers(err), tostring(err)), 0)
    end
    log.warn("%s: %s (%s)%s; retrying in %.2fs (attempt %d of %d)", what, kind, state, blockers(err),
      delay(attempt), attempt, retries + 1)
    sys.sleep(delay(attempt))
  end
end

--- The effective options as recorded in mig_meta.runs.options (conninfos masked).
function Run:options_json()
  local keys, out = {}, {}
  local conn_opts = {}
  for _, c in ipairs(self.def.connections) do conn_opts[c.option] = true end
  for _, s in ipairs(self.def.option_list) do
    local v = self.values[s.name]
    if not s.hidden and not s.disabled and v ~= nil then
      keys[#keys + 1] = s.name
      out[s.name] = conn_opts[s.name] and log.mask(v) or v
    end
  end
  return json.object(keys, out)
end

local function quote_arg(a)
  if a:match("^[%w%-_./=:,@]+$") then return a end
  return "'" .. a:gsub("'", "'\\''") .. "'"
end

--- "Resume with: <the command line that resumes this run>" (passwords masked), or why nothing
--- can be resumed: the database is a sandbox that is removed when mighost ends.
function Run:resume_hint()
  if script.throwaway_db then
    return "Nothing to resume: the sandbox this run used is removed when mighost ends"
      .. " (run it again on a real database with --db to keep its work)"
  end
  local parts = {"Resume with:", "mighost", "run", quote_arg(script.path)}
  if script.db and script.db ~= "" then parts[#parts + 1] = "--db " .. quote_arg(log.mask(script.db)) end
  for _, a in ipairs(script.args or {}) do parts[#parts + 1] = quote_arg(log.mask(a)) end
  return table.concat(parts, " ")
end

return run
