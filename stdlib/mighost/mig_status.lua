-- mighost.mig_status: `mighost status [--db URL] [SCRIPT]` — the runs in mig_meta and their state.
local db = require "mighost.db"
local log = require "mighost.log"
local sys = require "mighost.sys"
local json = require "mighost.mig_json"
local ledger = require "mighost.mig_ledger"
local lock = require "mighost.mig_lock"

local status = {}

local function name_of(path)
  return (path:match("([^/]+)$") or path):gsub("%.lua$", "")
end

local function fmt_secs(s)
  s = tonumber(s)
  if not s then return "-" end
  if s < 60 then return string.format("%.1fs", s) end
  if s < 3600 then return string.format("%dm%02ds", s / 60, s % 60) end
  return string.format("%dh%02dm", s / 3600, s % 3600 / 60)
end

local function text(v)
  if v == nil or v == db.NULL then return "-" end
  return (tostring(v):gsub("LL$", ""))
end

--- "  run N: file backup DIR (t1 n rows, ...) manifest sha256 …" for a run that took one, else nil.
local function backup_line(r)
  if r.backup == nil or r.backup == db.NULL then return nil end
  local ok, b = pcall(json.decode, r.backup)
  if not ok or type(b) ~= "table" or not b.dir then return nil end
  local parts = {}
  for _, t in ipairs(b.tables or {}) do parts[#parts + 1] = string.format("%s %s rows", t.table, text(t.rows)) end
  return string.format("  run %s: file backup %s (%s) manifest sha256 %s\n", text(r.run_id), b.dir,
    table.concat(parts, ", "), tostring(b.manifest_sha256))
end

--- opts: {db = conninfo or "", script = path or nil, limit = n}. Prints a table; returns 0.
function status.main(opts)
  local connect = require "mighost.mig_connect"
  local given = opts.db ~= "" and opts.db or nil
  local conn = connect.open("--db", given and "--db" or connect.default_source(), given)
  local cols = ledger.run_columns(conn)
  if not cols then
    io.stdout:write("no migration has run on this database (mig_meta.runs is absent)\n")
    return 0
  end
  -- a run whose process is gone is marked so (when this user may write the ledger; else it is
  -- shown as "running (process gone)")
  pcall(ledger.close_orphaned_runs, conn, "mighost status")
  local migration = opts.script and name_of(opts.script) or nil
  local sha = opts.script and sys.exists(opts.script) and sys.sha256_file(opts.script) or nil
  local rows = conn:query([[
    SELECT r.run_id, r.migration, r.status,
           to_char(r.started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS started,
           extract(epoch FROM COALESCE(r.finished_at, clock_timestamp()) - r.started_at)::float8 AS secs,
           (SELECT sum((v ->> 'source')::bigint) FROM jsonb_each(r.counts) e(k, v) WHERE jsonb_typeof(v) = 'object') AS source,
           (SELECT sum((v ->> 'migrated')::bigint) FROM jsonb_each(r.counts) e(k, v) WHERE jsonb_typeof(v) = 'object') AS migrated,
           (SELECT sum((v ->> 'rejected')::bigint) FROM jsonb_each(r.counts) e(k, v) WHERE jsonb_typeof(v) = 'object') AS rejected,
           (SELECT sum((v ->> 'written')::bigint) FROM jsonb_each(r.counts) e(k, v) WHERE jsonb_typeof(v) = 'object') AS written,
           (SELECT count(*) FROM mig_meta.checks c WHERE c.run_id = r.run_id AND c.passed = false) AS failed,
           ]] .. (cols.script_sha256 and "r.script_sha256" or "NULL::text") .. [[ AS sha,
           ]] .. (cols.message and "r.message" or "NULL::text") .. [[ AS message,
           ]] .. (cols.backup and "r.backup::text" or "NULL::text") .. [[ AS backup,
           ]] .. (cols.rolled_back_at and "to_char(r.rolled_back_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
             or "NULL::text") .. [[ AS rolled_back
    FROM mig_meta.runs r WHERE $1::text IS NULL OR r.migration = $1
    ORDER BY r.run_id DESC LIMIT $2]], migration, opts.limit or 20)
  if #rows == 0 then
    io.stdout:write(migration and ("no runs of " .. migration .. " recorded\n") or "no runs recorded\n")
    return 0
  end
  local held = {}
  local out = {{"run", "migration", "status", "started (UTC)", "duration", "source", "migrated", "rejected",
                "written", "failed checks", "script"}}
  for i = #rows, 1, -1 do
    local r = rows[i]
    local st = r.status
    if st == "running" then
      if held[r.migration] == nil then held[r.migration] = lock.holder(conn, r.migration) or false end
      st = held[r.migration] and ("running (pid " .. tostring(held[r.migration].pid) .. ")") or "running (process gone)"
    end
    if r.rolled_back ~= nil and r.rolled_back ~= db.NULL then st = st .. ", rolled back" end
    local s = text(r.sha)
    if s ~= "-" then s = s:sub(1, 12) .. ((sha and sha ~= r.sha) and " (changed since)" or "") end
    out[#out + 1] = {text(r.run_id), r.migration, st, text(r.started), fmt_secs(r.secs), text(r.source),
                     text(r.migrated), text(r.rejected), text(r.written), text(r.failed), s}
  end
  local w = {}
  for _, row in ipairs(out) do
    for j, c in ipairs(row) do w[j] = math.max(w[j] or 0, #c) end
  end
  for _, row in ipairs(out) do
    local cells = {}
    for j, c in ipairs(row) do cells[j] = string.format("%-" .. w[j] .. "s", c) end
    io.stdout:write((table.concat(cells, "  "):gsub("%s+$", "")), "\n")
  end
  for i = #rows, 1, -1 do
    local r = rows[i]
    if r.message ~= nil and r.message ~= db.NULL and (r.status == "error" or r.status == "refused") then
      io.stdout:write(string.format("  run %s: %s\n", text(r.run_id), log.mask(r.message)))
    end
  end
  for i = #rows, 1, -1 do
    local r = rows[i]
    if r.rolled_back ~= nil and r.rolled_back ~= db.NULL then
      io.stdout:write(string.format("  run %s: rolled back at %s UTC (mighost rollback)\n", text(r.run_id), r.rolled_back))
    end
  end
  for i = #rows, 1, -1 do
    local line = backup_line(rows[i])
    if line then io.stdout:write(line) end
  end
  if sha and rows[1].sha ~= nil and rows[1].sha ~= db.NULL and rows[1].sha ~= sha then
    io.stdout:write(string.format("note: %s changed since run %s (a new run warns; --strict refuses)\n",
      opts.script, text(rows[1].run_id)))
  end
  return 0
end

return status
