-- mighost.mig_connect: a run's connections — which conninfo each declared connection uses, the
-- sessions opened with application_name, timeouts and read-only / snapshot settings, the source
-- snapshots, and the ledger's schema.
local db = require "mighost.db"
local log = require "mighost.log"
local sys = require "mighost.sys"
local script = require "mighost.script"

local connect = {}

--- Where db.connect()'s default conninfo comes from: `mighost … --db`, else DATABASE_URL, else
--- libpq's PG* environment (the variables set, never PGPASSWORD's value). Returns the source's
--- name and the conninfo it gives (nil for the PG* environment).
function connect.default_source(script_db)
  if script_db and script_db ~= "" then return "--db", script_db end
  local url = os.getenv("DATABASE_URL")
  if url and url ~= "" then return "DATABASE_URL", url end
  local set = {}
  for _, k in ipairs({"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "PGPASSFILE"}) do
    local v = os.getenv(k)
    if v and v ~= "" then set[#set + 1] = k .. "=" .. v end
  end
  return "the PG* environment" .. (#set > 0 and (" (" .. table.concat(set, ", ") .. ")") or " (none set: libpq's defaults)"), nil
end

--- One line for a failed connection: what was connected (flag), where its conninfo came from,
--- and the server's (or libpq's) reason, with any password masked.
function connect.failure(flag, source, info, err)
  local reason = type(err) == "table" and err.message or tostring(err)
  reason = tostring(reason):gsub("^could not connect to .-: ", ""):gsub("^could not connect: ", "")
  reason = reason:gsub("%s*\n%s*", "; "):gsub("%s+$", "")
  if info == nil then info = select(2, connect.default_source(script.db)) end
  -- the conninfo right before ": " (a masked password ends there, also when masked again)
  local shown = info and info ~= "" and (" to " .. log.mask(info)) or ""
  return string.format("cannot connect %s (conninfo from %s)%s: %s", flag, source, shown, log.mask(reason))
end

--- Opens one session on `info` (nil: the default), or raises the one-line connect.failure.
function connect.open(flag, source, info)
  local ok, conn = pcall(db.connect, info)
  if not ok then error(connect.failure(flag, source, info, conn), 0) end
  return conn
end

--- Resolves each declared connection's conninfo and where it came from: its flag, its env
--- variables, the connection it falls back to, then (nil) db.connect()'s own default (--db,
--- DATABASE_URL, libpq environment); `default = "libpq"` ends at libpq's environment alone ("":
--- PGHOST, PGDATABASE, …). Returns name -> conninfo and name -> source.
function connect.conninfos(def, values, script_db)
  local out, from = {}, {}
  for _, c in ipairs(def.connections) do
    local v, src = values[c.option], c.flag
    if (v == nil or v == "") and c.option == "db" and script_db and script_db ~= "" then v = script_db end
    if v == nil or v == "" then
      for _, e in ipairs(c.env or {}) do
        local ev = os.getenv(e)
        if ev and ev ~= "" then v, src = ev, e break end
      end
    end
    if (v == nil or v == "") and c.fallback then v, src = out[c.fallback], from[c.fallback] end
    if v == nil and c.default == "libpq" then v = "" end
    if v == nil or v == "" then src = (v == nil) and connect.default_source(script_db) or "the PG* environment" end
    out[c.name], from[c.name] = v, src
  end
  return out, from
end

--- Opens the run's connections with application_name and timeouts set. role: "run", "worker 2"...
--- sources: name -> where its conninfo came from (for the message of a failed connection).
function connect.connect(def, infos, values, role, sources)
  local conns = {}
  for _, c in ipairs(def.connections) do
    local info = infos[c.name]
    local conn = connect.open(c.flag, (sources or {})[c.name] or c.flag, info)
    local app = string.format("mighost:%s %s pid %d", def.name, role, sys.getpid())
    conn:exec("SELECT set_config('application_name', $1, false)", app:sub(1, 63))
    conn:set_lock_timeout(values.lock_timeout or 0)
    -- a lock timeout then names who held the lock (looked up while the statement waits)
    if (values.lock_timeout or 0) > 0 then
      conn:watch_lock_waits(math.max(10, math.min(1000, math.floor(values.lock_timeout / 4))))
    end
    conn:set_statement_timeout(values.statement_timeout or 0)
    -- A run's statements are each planned and run once over one batch or one whole table: JIT
    -- compiling one (in the leader and again in every parallel worker) costs 30-90 ms, more than
    -- it saves at these sizes.
    conn:exec("SELECT set_config('jit', 'off', false) WHERE current_setting('jit', true) = 'on'")
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
