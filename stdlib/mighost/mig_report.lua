-- mighost.mig_report: the human summary, the RESULT line and the JSON report file.
local json = require "mighost.mig_json"
local log = require "mighost.log"
local sys = require "mighost.sys"

local report = {}

local RESULT_KEYS = {"migration", "mode", "status", "run_id", "counts", "checks_failed"}
local FILE_KEYS = {"migration", "mode", "status", "run_id", "counts", "checks_failed", "preconditions",
                   "rejects", "rejects_count", "fixups", "fixups_count", "checks", "would_change", "locks", "message", "options", "script",
                   "script_sha256", "host_version", "started_at", "finished_at", "durations", "backup"}
local LOCK_KEYS = {"table", "strongest", "strongest_seconds", "strongest_statement", "write_blocking",
                   "write_blocking_seconds", "write_blocking_statement"}

--- The lock report (conn:lock_report()) as JSON objects: per existing table the strongest lock
--- the run took and how long it held it, and the longest-held lock that blocked writes.
function report.locks_json(list)
  local out = json.array()
  for _, l in ipairs(list or {}) do
    local function s(v) return json.number(string.format("%.3f", v)) end
    out[#out + 1] = json.object(LOCK_KEYS, {table = l.table, strongest = l.strongest,
      strongest_seconds = s(l.strongest_seconds), strongest_statement = l.strongest_statement,
      write_blocking = l.blocking ~= "" and l.blocking or json.null,
      write_blocking_seconds = s(l.blocking_seconds),
      write_blocking_statement = l.blocking ~= "" and l.blocking_statement or json.null})
  end
  return out
end
local COUNT_KEYS = {"source", "migrated", "rejected", "written"}

--- counts as ordered JSON objects: {"<set>": {"source","migrated","rejected","written"}}.
function report.counts_json(counts, order)
  local keys, out = {}, {}
  for _, name in ipairs(order) do
    if counts[name] then
      keys[#keys + 1] = name
      local c = counts[name]
      out[name] = c.source ~= nil and json.object(COUNT_KEYS, c) or c
    end
  end
  return json.object(keys, out)
end

local function secs(s) return s and string.format("%.2fs", s) or "-" end

local sample = require "mighost.mig_sample"

local function tally(list, field)
  if sample.is(list) then return list:tally() end
  local by, names = {}, {}
  for _, r in ipairs(list) do
    local k = r[field]
    if not by[k] then by[k] = 0; names[#names + 1] = k end
    by[k] = by[k] + 1
  end
  table.sort(names)
  local parts = {}
  for _, k in ipairs(names) do parts[#parts + 1] = k .. " " .. by[k] end
  return #list .. (#parts > 0 and (" (" .. table.concat(parts, ", ") .. ")") or "")
end

--- Prints the summary table (stdout) for a finished run.
function report.summary(r)
  local p = r.mode == "dry-run" and "[DRY RUN] " or ""
  local out = {}
  local function say(fmt, ...) out[#out + 1] = p .. string.format(fmt, ...) end
  say("migration %s: %s (%s%s) in %s", r.migration, r.status, r.mode,
    r.run_id and (", run #" .. tostring(r.run_id)) or "", secs(r.durations and r.durations.total))
  local rows = {{"phase/set", "source", "migrated", "rejected", "written", "time"}}
  local extra = {}
  for _, name in ipairs(r.order or {}) do
    local c = r.counts[name] or {}
    local t = r.durations and r.durations.phases and r.durations.phases[name]
    local function f(k) return c[k] ~= nil and tostring(c[k]):gsub("LL$", "") or "-" end
    rows[#rows + 1] = {name, f("source"), f("migrated"), f("rejected"), f("written"), secs(t)}
    if c.source == nil and next(c) then extra[#extra + 1] = name .. " " .. json.encode(c) end
  end
  local w = {}
  for _, row in ipairs(rows) do
    for i, cell in ipairs(row) do w[i] = math.max(w[i] or 0, #cell) end
  end
  for _, row in ipairs(rows) do
    local cells = {string.format("%-" .. w[1] .. "s", row[1])}
    for i = 2, #row do cells[i] = string.format("%" .. w[i] .. "s", row[i]) end
    say("  %s", table.concat(cells, "  "))
  end
  for _, e in ipairs(extra) do say("  %s", e) end
  say("  rejects %s; fixups %s", tally(r.rejects or {}, "reason"), tally(r.fixups or {}, "rule"))
  local pass, fail, skip = 0, 0, 0
  for _, c in ipairs(r.checks or {}) do
    if c.passed == true then pass = pass + 1 elseif c.passed == false then fail = fail + 1 else skip = skip + 1 end
  end
  local d = r.durations or {}
  say("  checks %d PASS, %d FAIL, %d SKIP; setup %s, finalize %s, checks %s", pass, fail, skip, secs(d.setup),
    secs(d.finalize), secs(d.checks))
  for _, l in ipairs(r.locks or {}) do
    local blocking = l.write_blocking ~= json.null and string.format("; longest write-blocking %s %ss",
      l.write_blocking, l.write_blocking_seconds.text) or "; no write-blocking lock"
    say("  lock %s: strongest %s held %ss%s", l.table, l.strongest, l.strongest_seconds.text, blocking)
  end
  if r.message then say("  %s", r.message) end
  if r.report_path then say("  report %s", r.report_path) end
  io.stdout:write(table.concat(out, "\n"), "\n")
  io.stdout:flush()
end

--- The RESULT line (always the last line on stdout).
function report.result_line(r)
  local obj = json.object(RESULT_KEYS, {migration = r.migration, mode = r.mode, status = r.status,
    run_id = r.run_id or json.null, counts = r.counts_json, checks_failed = r.checks_failed or 0})
  io.stdout:write("RESULT ", json.encode(obj), "\n")
  io.stdout:flush()
end

--- The default report file of a run of migration `name`: reports/<name>-<UTC time>.json, with
--- -2, -3, … before .json when a run in the same second took that name.
function report.default_path(name)
  return string.format("reports/%s-%s.json", name, os.date("!%Y%m%dT%H%M%SZ"))
end

--- Opens the report file: `path` as given (--report), or with `unique` the first of path,
--- path-2, … that does not exist yet (created exclusively, so two runs never share one).
--- The file is private (0600): a report lists rejected rows and their values.
local function open_report(path, unique)
  if not unique then
    local f, err = sys.create_private(path)
    if f then f, err = io.open(path, "w") end
    return f, err, path
  end
  local base = path:gsub("%.json$", "")
  for i = 1, 1000 do
    local p = i == 1 and path or string.format("%s-%d.json", base, i)
    local f, err = io.open(p, "wx")
    if f then
      local ok, perr = sys.create_private(p)   -- still empty: narrowed to 0600 before anything is written
      if not ok then f:close() return nil, perr, p end
      return f, nil, p
    end
    if not (err or ""):match("File exists") then return f, err, p end
  end
  return nil, "no free name beside " .. path, path
end

local function list_of(v) return sample.is(v) and v.rows or v or json.array() end
local function counts_of(v) return sample.is(v) and v:counts_json() or nil end

--- Writes the JSON report file (directories created). Returns the path, or nil after a warning.
--- The rejects and fixups are a sample (mig_sample) with their counts; mig_meta holds them all.
function report.write_file(path, r, unique)
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then sys.mkdir_p(dir) end
  local obj = json.object(FILE_KEYS, {
    migration = r.migration, mode = r.mode, status = r.status, run_id = r.run_id or json.null,
    counts = r.counts_json, checks_failed = r.checks_failed or 0,
    preconditions = r.preconditions or json.array(), rejects = list_of(r.rejects),
    rejects_count = counts_of(r.rejects), fixups = list_of(r.fixups), fixups_count = counts_of(r.fixups),
    checks = r.checks or json.array(),
    would_change = r.mode == "dry-run" and r.counts_json or nil, message = r.message, locks = r.locks,
    options = r.options, script = r.script, script_sha256 = r.script_sha256, host_version = r.host_version,
    started_at = r.started_at, finished_at = r.finished_at, durations = r.durations, backup = r.backup})
  if r.extra then   -- the script's own fields (ctx:report)
    local keys = {}
    for i, k in ipairs(FILE_KEYS) do keys[i] = k end
    for _, k in ipairs(r.extra.keys) do
      if obj[k] == nil then keys[#keys + 1] = k end
      obj[k] = r.extra.values[k]
    end
    obj = json.object(keys, obj)
  end
  local f, err, taken = open_report(path, unique)
  if not f then
    log.warn("cannot write the report %s: %s", path, tostring(err))
    return nil
  end
  f:write(json.encode(obj), "\n")
  f:close()
  return taken
end

return report
