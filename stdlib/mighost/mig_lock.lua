-- mighost.mig_lock: one runner per migration, via a session-level advisory lock.
local lock = {}

local KEY = "hashtext('mighost:' || $1)"

--- Tries pg_try_advisory_lock(hashtext('mighost:<name>')) on `conn`; true when taken. The lock
--- lives as long as the session (a killed process releases it when its backend notices).
function lock.try(conn, name)
  return conn:scalar("SELECT pg_try_advisory_lock(" .. KEY .. ")", name) == true
end

function lock.release(conn, name)
  pcall(conn.scalar, conn, "SELECT pg_advisory_unlock(" .. KEY .. ")", name)
end

--- The session holding the lock, from pg_locks joined with pg_stat_activity, or nil.
--- An int8 advisory key is stored as classid = high 32 bits, objid = low 32 bits, objsubid = 1.
function lock.holder(conn, name)
  local rows = conn:query([[
    WITH k AS (SELECT ]] .. KEY .. [[::bigint AS key)
    SELECT a.pid, COALESCE(a.application_name, '') AS application_name, a.usename::text AS usename,
           a.backend_start::text AS backend_start, COALESCE(a.client_addr::text, 'local') AS client,
           a.state, a.xact_start::text AS xact_start
    FROM k, pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid::bigint = ((k.key >> 32) & 4294967295)
      AND l.objid::bigint = (k.key & 4294967295)
    LIMIT 1]], name)
  return rows[1]
end

--- A sentence naming the holder (and the ledger's running run, when there is one).
function lock.describe(conn, name)
  local ok, h = pcall(lock.holder, conn, name)
  if not ok or not h then
    return "migration '" .. name .. "' is locked by another session (holder not visible to this user)"
  end
  local text = string.format("migration '%s' is already running: held by pid %s (application_name '%s', user %s, from %s, connected since %s)",
    name, tostring(h.pid), h.application_name, tostring(h.usename), tostring(h.client), tostring(h.backend_start))
  local ok2, run = pcall(conn.query, conn, [[SELECT run_id, started_at::text AS started_at FROM mig_meta.runs
      WHERE migration = $1 AND status = 'running' ORDER BY run_id DESC LIMIT 1]], name)
  if ok2 and run[1] then
    text = text .. string.format("; its run #%s started at %s", tostring(run[1].run_id), run[1].started_at)
  end
  return text
end

return lock
