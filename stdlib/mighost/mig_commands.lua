-- mighost.mig_commands: `mighost verify SCRIPT` (only the checks, read-only) and
-- `mighost rollback SCRIPT` (the script's rollback, after confirmation).
local log = require "mighost.log"
local script = require "mighost.script"
local sys = require "mighost.sys"
local json = require "mighost.mig_json"
local ledger = require "mighost.mig_ledger"
local lock = require "mighost.mig_lock"
local checks = require "mighost.mig_checks"
local report = require "mighost.mig_report"
local run_mod = require "mighost.mig_run"

local commands = {}

--- A Run of the command, connected; nil after printing the one line of a failed connection.
local function open(def, values, role)
  local R = run_mod.new(def, values, {role = role})
  local ok, err = pcall(R.connect, R)
  if ok then return R end
  io.stderr:write("mighost: error: ", tostring(err), "\n")
  return nil
end

local function result(def, mode, status, counts, failed)
  report.result_line({migration = def.name, mode = mode, status = status, run_id = nil,
                      counts_json = report.counts_json(counts or {}, def.order), checks_failed = failed or 0})
end

--- Runs the checks (and counts) against the database as it is, in a read-only transaction that is
--- rolled back. Exit 0 when every check passes, 3 otherwise.
function commands.verify(def, values)
  local R = open(def, values, "verify")
  if not R then
    result(def, "verify", "error")
    return 1
  end
  if not ledger.exists(R.conn) then
    io.stderr:write(string.format("mighost: %s: mig_meta is absent: this database was never migrated\n", def.name))
  end
  local counts, results, failed = {}, json.array(), 0
  local ok, err = pcall(R.with_snapshots, R, function() return R.conn:tx(function()
    R.conn:exec("SET TRANSACTION READ ONLY")
    if def.prepare then def.prepare(R.ctx) end
    R:resolve_sets()
    counts = R.sets:count_all()
    results, failed = checks.run(R, {strict = true}, counts)
    error("verify: rollback", 0)
  end) end)
  if not ok and err ~= "verify: rollback" then
    io.stderr:write("mighost: error: ", log.mask(tostring(err)), "\n")
    result(def, "verify", "error", counts, failed)
    return 1
  end
  local status = failed > 0 and "validation_failed" or "ok"
  io.stdout:write(string.format("verify %s: %d check(s), %d failed\n", def.name, #results, failed))
  result(def, "verify", status, counts, failed)
  return failed > 0 and 3 or 0
end

--- Runs the script's rollback (SQL text or function) under the migration's lock, after a typed
--- confirmation on a terminal, or with --yes. Without a terminal and without --yes: refused (2).
function commands.rollback(def, values)
  if not def.rollback then
    io.stderr:write(string.format("mighost: %s: the script declares no rollback\n", def.name))
    return 2
  end
  if not values.yes and not sys.isatty(0) then
    io.stderr:write(string.format("mighost: %s: refusing to roll back without --yes (stdin is not a terminal)\n", def.name))
    result(def, "rollback", "refused")
    return 2
  end
  local t0 = sys.now()
  local R = open(def, values, "rollback")
  if not R then
    result(def, "rollback", "error")
    return 1
  end
  if not lock.try(R.conn, def.name) then
    io.stderr:write("mighost: refused: ", lock.describe(R.conn, def.name), "\n")
    result(def, "rollback", "refused")
    return 2
  end
  if not values.yes then
    io.stderr:write(string.format("Roll back migration '%s' on %s?\nThis runs the script's rollback. Type the migration name to confirm: ",
      def.name, log.mask(R.conn:url())))
    local line = io.stdin:read("*l")
    if line == nil or line:match("^%s*(.-)%s*$") ~= def.name then
      io.stderr:write("mighost: not confirmed; nothing was changed\n")
      result(def, "rollback", "refused")
      return 2
    end
  end
  if def.prepare then def.prepare(R.ctx) end
  local marked
  local ok, err = pcall(function()
    if type(def.rollback) == "function" then
      R.conn:tx(function() def.rollback(R.ctx) end)
    elseif def.rollback:upper():match("%f[%w]BEGIN%s*;") then
      -- the runbook's own BEGIN ... COMMIT: run it as written; on error leave no open transaction
      local okx, e = pcall(R.conn.exec, R.conn, def.rollback)
      if not okx then
        pcall(R.conn.exec, R.conn, "ROLLBACK")
        error(e, 0)
      end
    else
      R.conn:tx(function() R.conn:exec(def.rollback) end)
    end
    -- what the framework's own lock-safe DDL may have left (NOT NULL proofs of an interrupted run)
    if def.rollback_cleanup then R.conn:tx(function() def.rollback_cleanup(R.ctx) end) end
    -- A later run must not resume from checkpoints of the rolled-back work.
    marked = R.ledger:rolled_back()
  end)
  if not ok then
    io.stderr:write("mighost: error: rollback failed (nothing was committed): ", log.mask(tostring(err)), "\n")
    result(def, "rollback", "error")
    return 1
  end
  io.stdout:write(string.format("rolled back %s in %.2fs%s\n", def.name, sys.now() - t0,
    marked and #marked > 0 and string.format(" (mig_meta.runs: %d run(s) marked rolled back)", #marked) or ""))
  local kept = require("mighost.mig_backup").kept_after_rollback(R)
  if kept then io.stdout:write("note: ", kept, "\n") end
  result(def, "rollback", "ok")
  return 0
end

return commands
