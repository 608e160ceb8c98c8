-- mighost.mig_checks: the validation checks at the end of every run, and counts_balance.
local db = require "mighost.db"
local json = require "mighost.mig_json"
local context = require "mighost.mig_context"

local checks = {}

local function text(v)
  if v == nil or v == db.NULL or v == json.null then return "NULL" end
  return context.value_text(v)
end

local ffi = require "ffi"
local float_t = ffi.typeof("float")

--- A real's text as PostgreSQL prints it (the shortest digits that read back as the same float4).
local function float4_text(v)
  if v ~= v or v == math.huge or v == -math.huge or v == math.floor(v) then return text(v) end
  local f = tonumber(float_t(v))
  for digits = 6, 9 do
    local s = string.format("%." .. digits .. "g", v)
    if tonumber(float_t(tonumber(s))) == f then return s end
  end
  return text(v)
end

--- The value of a check's SQL as the text PostgreSQL returns: numeric values arrive as their
--- text already, a double prints as its shortest exact digits (mig_context.value_text), a real
--- as a real's.
local function sql_actual(conn, sql)
  local rows = conn:query(sql)
  local first = rows.columns[1]
  local v = rows[1] and first and rows[1][first]
  if type(v) == "number" and rows.types[1] == "float4" then return float4_text(v) end
  return v
end

--- A check value in the report: an integer a JSON reader holds exactly (|n| < 2^53) is a number;
--- any other value is the text PostgreSQL gave, as a string (a JSON number would be read as a
--- double: 0.00000000000000000000 or 12345678901234567.5 would not stay what was compared).
local function report_value(t)
  if type(t) == "string" and t:match("^%-?%d+$") and #t:gsub("^%-", "") <= 15 and json.is_number_text(t) then
    return json.number(t)
  end
  return t
end

--- Text equality, or numeric equality of two decimal texts ("0" = "0.00") while a double holds
--- them exactly (15 significant digits); larger numbers must match as text.
local function equal(a, b)
  if a == b then return true end
  if not (json.is_number_text(a) and json.is_number_text(b)) then return false end
  local function digits(t) return #(t:gsub("[^%d]", ""):gsub("^0+", "")) end
  if digits(a) > 15 or digits(b) > 15 then return false end
  return tonumber(a) == tonumber(b)
end

--- True when some source set still has rows neither migrated nor rejected.
function checks.unresolved(counts, set_names)
  for _, name in ipairs(set_names) do
    local c = counts[name]
    if c and (tonumber(c.source) or 0) > (tonumber(c.migrated) or 0) + (tonumber(c.rejected) or 0) then return true end
  end
  return false
end

--- Why a check is skipped in this run, or nil: `needs = "complete"` checks while source rows are
--- unresolved in a run that stopped short (no finalize), `needs = "finalize"` checks when finalize
--- did not run. A finalized run went through every source row: a row unresolved there was lost
--- (e.g. skipped by a trigger), and the checks that prove it run. opts.strict runs them all.
function checks.skip_reason(c, opts, unresolved)
  if opts.strict then return nil end
  if c.needs == "complete" and unresolved and not opts.finalized then return "source rows unresolved" end
  if c.needs == "finalize" and not opts.finalized then return "finalize did not run" end
  return nil
end

--- ANALYZE of the tables the run filled (declared targets, mig_meta's rejects and fixups), so that
--- the checks are planned on statistics of the data they read, not of an empty table. A target
--- updated in place keeps the statistics it has (its rows were there before the run, and
--- autovacuum analyzes it after the updates); it is analyzed only when it has none.
function checks.analyze(run)
  local conn = run.conns[run.def.ledger]
  local qualify = require("mighost.schema").qualify
  local names, filled = {"mig_meta.rejects", "mig_meta.fixups"}, {}
  for _, m in ipairs(run.def.mapped or {}) do
    if m.from == run.def.ledger then
      local t = qualify(m.target)
      names[#names + 1] = t
      filled[t] = filled[t] or not m.update
      for _, a in ipairs(m.also or {}) do names[#names + 1] = qualify(a.target); filled[names[#names]] = true end
    end
  end
  for _, n in ipairs(names) do
    local sql = filled[n] == false and "SELECT reltuples < 0 FROM pg_class WHERE oid = to_regclass($1)"
      or "SELECT to_regclass($1) IS NOT NULL"
    if conn:scalar(sql, n) == true then conn:exec("ANALYZE " .. n) end
  end
end

--- counts_balance: Σ over source sets of |source − migrated − rejected|.
function checks.balance(counts, set_names)
  local total = 0
  for _, name in ipairs(set_names) do
    local c = counts[name]
    if c then total = total + math.abs((tonumber(c.source) or 0) - (tonumber(c.migrated) or 0) - (tonumber(c.rejected) or 0)) end
  end
  return total
end

--- The checks of `list` declared with `count` (pairs {from, where}: the value is the sum over
--- them of the rows of `from` where `where` holds) that are not skipped, grouped by connection
--- and FROM text: each group is counted by ONE query, a `count(*) FILTER (WHERE …)` per
--- condition, the first time one of its checks runs (so that check's time is the group's). If
--- that query fails, each condition is counted alone, so an error fails only its own check.
--- Returns count_of(c, conn): check c's value.
local function shared_counts(run, list, skips)
  local groups, pairs_of = {}, {}
  for _, c in ipairs(list) do
    if c.count and not skips[c] then
      local ok, err = pcall(function()
        local mine = {}
        for i, p in ipairs(c.count) do
          local from, where = p[1], p[2]
          if type(from) == "function" then from = from(run.ctx) end
          if type(where) == "function" then where = where(run.ctx) end
          local key = (c.on or run.def.ledger) .. "\0" .. from
          groups[key] = groups[key] or {from = from, wheres = {}}
          local g = groups[key]
          g.wheres[#g.wheres + 1] = where
          mine[i] = {g = g, k = #g.wheres}
        end
        pairs_of[c] = mine
      end)
      if not ok then pairs_of[c] = {err = err} end
    end
  end
  return function(c, conn)
    local mine = pairs_of[c]
    if mine.err ~= nil then error(mine.err, 0) end
    local total = 0
    for _, p in ipairs(mine) do
      local g = p.g
      if g.row == nil then
        local cols = {}
        for k, w in ipairs(g.wheres) do cols[k] = "count(*) FILTER (WHERE (" .. w .. ")) AS n" .. k end
        local ok, rows = pcall(conn.tx, conn, function()
          return conn:query("SELECT " .. table.concat(cols, ", ") .. " FROM " .. g.from)
        end)
        g.row = ok and rows[1] or false
      end
      local n = g.row and g.row["n" .. p.k]
        or conn:scalar("SELECT count(*) FROM " .. g.from .. " WHERE (" .. g.wheres[p.k] .. ")")
      total = total + tonumber(n)
    end
    return total
  end
end

--- Runs every declared check (each in a savepoint of the current transaction, so an SQL error
--- fails that check only) and counts_balance; prints one CHECK line each. Returns the results
--- [{name, passed (nil = skipped), expected, actual, expected_text, actual_text}] and the failures.
function checks.run(run, opts, counts)
  local results, failed = json.array(), 0
  local sys = require "mighost.sys"
  local unresolved = checks.unresolved(counts, run.def.set_names)
  local prefix = run.dry_run and "[DRY RUN] " or ""
  local list = {}
  for _, c in ipairs(run.def.checks) do list[#list + 1] = c end
  list[#list + 1] = {name = "counts_balance", expected = 0, needs = "complete",
                     fn = function() return checks.balance(counts, run.def.set_names) end}
  if opts.filter then   -- a part of the checks (the finalize transaction runs them in two parts)
    local kept = {}
    for _, c in ipairs(list) do if opts.filter(c) then kept[#kept + 1] = c end end
    list = kept
  end
  local skips = {}
  for _, c in ipairs(list) do skips[c] = checks.skip_reason(c, opts, unresolved) end
  local count_of = shared_counts(run, list, skips)
  for _, c in ipairs(list) do
    local skip = skips[c]
    local expected, expected_err = c.expected, nil
    if type(expected) == "function" and not skip then   -- e.g. a fingerprint of the source snapshot
      local ok, v = pcall(expected, run.ctx)
      if ok then expected = v else expected, expected_err = "error", "error computing expected: " .. tostring(v) end
    elseif type(expected) == "function" then
      expected = "?"
    end
    if expected == nil then expected = 0 end
    local r = {name = c.name, expected_text = text(expected)}
    local t0 = sys.now()
    if skip then
      r.actual_text = "skipped"
    else
      local conn = run.conns[c.on or run.def.ledger]
      local ok, actual = pcall(function()
        return conn:tx(function()
          if c.fn then return c.fn(run.ctx) end
          if c.count then return count_of(c, conn) end
          local sql = c.sql
          if type(sql) == "function" then sql = sql(run.ctx) end
          return sql_actual(conn, sql)
        end)
      end)
      if expected_err then
        r.actual_text, r.passed = expected_err, false
      elseif ok then
        r.actual_text = text(actual)
        r.passed = equal(r.actual_text, r.expected_text)
      else
        r.actual_text = "error: " .. tostring(actual)
        r.passed = false
      end
      if not r.passed then failed = failed + 1 end
    end
    local seconds = math.floor((sys.now() - t0) * 1000 + 0.5) / 1000
    local verdict = r.passed == nil and "SKIP" or (r.passed and "PASS" or "FAIL")
    io.stdout:write(string.format("%sCHECK %s %s expected=%s actual=%s%s\n", prefix, r.name, verdict,
      r.expected_text, r.actual_text, skip and (" (" .. skip .. ")") or string.format(" in %.3fs", seconds)))
    results[#results + 1] = json.object({"name", "passed", "expected", "actual", "seconds", "skipped"},
      {name = r.name, passed = r.passed == nil and json.null or r.passed, expected = report_value(r.expected_text),
       actual = r.passed == nil and json.null or report_value(r.actual_text), expected_text = r.expected_text, actual_text = r.actual_text,
       seconds = (not skip) and seconds or nil, skipped = skip})
  end
  io.stdout:flush()
  return results, failed
end

return checks
