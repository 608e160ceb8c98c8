-- mighost.mig_connect: a run's connections — which conninfo each declared connection uses, the
-- sessions opened with application_name, timeouts and read-only / snapshot settings, the source
-- snapshots, and the ledger's schema.
local db = require "mighost.db"
local log = require "mighost.log"
local sys = require "mighost.sys"

local connect = {}

--- Resolves each declared connection's conninfo: its flag, its env variables, the connection it
--- falls back to, then (nil) db.connect()'s own default (--db, DATABASE_URL, libpq environment);
--- `default = "libpq"` ends at libpq's environment alone ("": PGHOST, PGDATABASE, …).
function connect.conninfos(def, values, script_db)
  local out = {}
  for _, c in ipairs(def.connections) do
    local v = values[c.option]
    if (v == nil or v == "") and c.option == "db" and script_db and script_db ~= "" then v = script_db end
    if v == nil or v == "" then
      for _, e in ipairs(c.env or {}) do
        local ev = os.getenv(e)
        if ev and ev ~= "" then v = ev break end
      end
    end
    if (v == nil or v == "") and c.fallback then v = out[c.fallback] end
    if v == nil and c.default == "libpq" then v = "" end
    out[c.name] = v
  end
  return out
end

--- Opens the run's connections with application_name and timeouts set. role: "run", "worker 2"...
function connect.connect(def, infos, values, role)
  local conns = {}
  for _, c in ipairs(def.connections) do
    local info = infos[c.name]
    local ok, conn = pcall(db.connect, info)
    if not ok then
      error(string.format("cannot connect %s (%s): %s", c.flag, log.mask(tostring(info or "default")),
        log.mask(tostring(conn))), 0)
    end
    local app = string.format("mighost:%s %s pid %d", def.name, role, sys.getpid())
    conn:exec("SELECT set_config('application_name', $1, false)", app:sub(1, 63))
    conn:set_lock_timeout(values.lock_timeout or 0)
    -- a lock timeout then names who held the lock (looked up while the statement waits)
    if (values.lock_timeout or 0) > 0 then
      conn:watch_lock_waits(math.max(10, math.min(1000, math.floor(values.lock_timeout / 4))))
    end
    conn:set_statement_timeout(values.statement_timeout or 0)
    if c.read_only then conn:exec("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY") end
    -- a snapshot session idles in its transaction between batches: no server timeout may end it
    if c.snapshot then conn:exec("SELECT set_config('idle_in_transaction_session_timeout', '0', false)") end
    local schema = c.schema and values[c.schema]
    if schema and schema ~= "" then
      conn:exec("SELECT set_config('search_path', $1, false)", db.quote_ident(schema))
    end
    conns[c.name] = conn
  end
  return conns
end

--- Runs fn inside one REPEATABLE READ READ ONLY transaction on every `snapshot = true` connection,
--- opened now and ended when fn returns or fails. Every statement a run sends on such a session —
--- each batch's fetch, the counts, the JSON backup (a savepoint of it), the checks — reads the
--- same snapshot, however many target transactions commit in between: the source is read as of
--- one instant. (A resumed run takes a new snapshot.)
function connect.with_snapshots(def, conns, fn)
  local list = {}
  for _, c in ipairs(def.connections) do
    if c.snapshot then list[#list + 1] = conns[c.name] end
  end
  local function open(i)
    if i > #list then return fn() end
    return list[i]:tx(function()
      list[i]:exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
      return open(i + 1)
    end)
  end
  return open(1)
end

--- Creates the ledger connection's schema (connection key `schema`, e.g. --target-schema) when
--- it is missing, so the target DDL has somewhere to go. In the setup transaction.
function connect.ensure_schema(run)
  for _, c in ipairs(run.def.connections) do
    local name = c.schema and run.values[c.schema]
    if c.name == run.def.ledger and name and name ~= "" then
      run.conn:exec("CREATE SCHEMA IF NOT EXISTS " .. db.quote_ident(name))
    end
  end
end

return connect
