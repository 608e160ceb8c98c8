-- mighost.mig_lock: one runner per migration, via a session-level advisory lock.
local lock = {}

local function db_connect(conninfo) return require("mighost.db").connect(conninfo) end

local KEY = "hashtext('mighost:' || $1)"

--- Tries pg_try_advisory_lock(hashtext('mighost:<name>')) on `conn`; true when taken. The lock
--- lives as long as the session (a killed process releases it when its backend notices).
function lock.try(conn, name)
  return conn:scalar("SELECT pg_try_advisory_lock(" .. KEY .. ")", name) == true
end

function lock.release(conn, name)
  pcall(conn.scalar, conn, "SELECT pg_advisory_unlock(" .. KEY .. ")", name)
end

--- SQL condition: pg_locks row `l` is the granted lock of migration `name_sql` (an SQL
--- expression) in this database. An int8 advisory key is stored as classid = high 32 bits,
--- objid = low 32 bits, objsubid = 1.
function lock.is_lock_of(name_sql)
  local key = "hashtext('mighost:' || " .. name_sql .. ")::bigint"
  return [[l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid::bigint = ((]] .. key .. [[ >> 32) & 4294967295)
      AND l.objid::bigint = (]] .. key .. [[ & 4294967295)]]
end

--- The session holding the lock, from pg_locks joined with pg_stat_activity, or nil.
function lock.holder(conn, name)
  local rows = conn:query([[
    SELECT a.pid, COALESCE(a.application_name, '') AS application_name, a.usename::text AS usename,
           a.backend_start::text AS backend_start, COALESCE(a.client_addr::text, 'local') AS client,
           a.state, a.xact_start::text AS xact_start
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE ]] .. lock.is_lock_of("$1::text") .. [[ LIMIT 1]], name)
  return rows[1]
end

--- Why the lock just taken on `conn` does not keep a second runner out, or nil when it does.
--- Through a pooler in transaction (or statement) mode each transaction may run on another server
--- session, and the advisory lock, like every SET, stays with the server session, which serves
--- the next client too. Seen as: the server pid changing between transactions, the lock not held
--- by the session of the next transaction, or a second connection (`conninfo`) landing on the
--- same server session or being able to take the lock as well.
function lock.not_owned(conn, name, conninfo)
  local pid = conn:scalar("SELECT pg_backend_pid()")
  local why
  if not conn:scalar("SELECT EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = pg_backend_pid() AND "
      .. lock.is_lock_of("$1::text") .. ")", name) then
    why = "the advisory lock taken in one transaction is not held by the server session of the next"
  end
  local ok, probe = pcall(db_connect, conninfo)
  if ok then
    local other = probe:scalar("SELECT pg_backend_pid()")
    if other == pid then
      why = why or string.format("a second connection was served by the same server session (pid %s)", tostring(pid))
    end
    if lock.try(probe, name) then
      lock.release(probe, name)
      why = why or "a second connection could take the same advisory lock"
    end
    probe:close()
  end
  local now = conn:scalar("SELECT pg_backend_pid()")
  if not why and now ~= pid then
    why = string.format("the server session changed between two transactions (pid %s, then %s)", tostring(pid), tostring(now))
  end
  if not why then return nil end
  return "the connection does not keep one server session between transactions: " .. why
    .. ". A pooler in transaction or statement mode (pgbouncer pool_mode = transaction) hands the session, its"
    .. " advisory lock and its settings to other clients, so one runner per migration could not be promised."
    .. " Connect directly to PostgreSQL, or through a pool in session mode (pgbouncer pool_mode = session)"
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
