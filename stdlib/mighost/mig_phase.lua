-- mighost.mig_phase: source sets and batched phases — keyset pagination over a source query,
-- one transaction per batch (target writes, rejects, fixups and the checkpoint), key-range parts
-- for workers, step phases (a function called until it has nothing left), and the counts.
local db = require "mighost.db"
local context = require "mighost.mig_context"
local ledger = require "mighost.mig_ledger"

local phase = {}

local TEXT_TYPES = {text = true, varchar = true, bpchar = true, name = true, citext = true}

local function eval(v, ctx)
  if type(v) == "function" then return v(ctx) end
  return v
end

local function lit(s) return db.quote_literal(s) end

--- Resolves a source set declaration into SQL: source, key expressions (text keys ordered
--- COLLATE "C"), key text, and the migrated / rejected / pending predicates over alias `s`.
--- A set already resolved (a worker receives them as data) is completed the same way.
function phase.resolve(run, decl)
  local ctx = run.ctx
  local rs = {name = decl.name, from = decl.from or run.def.ledger}
  rs.conn = run.conns[rs.from] or error("source set " .. decl.name .. ": unknown connection '" .. rs.from .. "'", 0)
  rs.source_sql = (decl.source_sql or eval(decl.source, ctx)):gsub("[%s;]+$", "")  -- it becomes a subquery
  rs.keys = decl.keys
  rs.migrated_sql = decl.migrated_sql or eval(decl.migrated, ctx)
  rs.pending_decl = decl.pending_sql or eval(decl.pending, ctx)
  rs.migrated_count = decl.migrated_count
  rs.types = decl.types
  if not rs.types then
    local rows = rs.conn:query("SELECT * FROM (" .. rs.source_sql .. ") s LIMIT 0")
    rs.types = {}
    for i, col in ipairs(rows.columns) do rs.types[col] = rows.types[i] end
  end
  rs.keyexpr, rs.keytext = {}, {}
  for i, k in ipairs(rs.keys) do
    if not rs.types[k] then
      error(string.format("source set %s: key column '%s' is not a column of its source query", rs.name, k), 0)
    end
    local q = "s." .. db.quote_ident(k)
    rs.keyexpr[i] = TEXT_TYPES[rs.types[k]] and (q .. ' COLLATE "C"') or q
    rs.keytext[i] = q .. "::text"
  end
  rs.keytext_sql = #rs.keys == 1 and rs.keytext[1] or ("concat_ws('|', " .. table.concat(rs.keytext, ", ") .. ")")
  rs.order_sql = table.concat(rs.keyexpr, ", ")
  rs.rejected_sql = "EXISTS (SELECT 1 FROM mig_meta.rejects r WHERE r.migration = " .. lit(run.def.name)
    .. " AND r.source_table = " .. lit(rs.name) .. " AND r.source_key = " .. rs.keytext_sql .. ")"
  if rs.pending_decl then
    rs.pending_sql = rs.pending_decl
  elseif rs.migrated_sql and rs.conn == run.conns[run.def.ledger] then
    rs.pending_sql = "NOT (" .. rs.migrated_sql .. ") AND NOT " .. rs.rejected_sql
  end
  return rs
end

--- The plain data of a resolved set (what a worker needs to rebuild it without the script's functions).
function phase.export(rs)
  return {name = rs.name, from = rs.from, source_sql = rs.source_sql, keys = rs.keys, migrated_sql = rs.migrated_sql,
          pending_sql = rs.pending_decl, types = rs.types}
end

local function row_compare(rs, op, values, params)
  local ph = {}
  for i = 1, #rs.keys do
    params[#params + 1] = values[i]
    ph[i] = "$" .. #params
  end
  if #rs.keys == 1 then return rs.keyexpr[1] .. " " .. op .. " " .. ph[1] end
  return "(" .. rs.order_sql .. ") " .. op .. " (" .. table.concat(ph, ", ") .. ")"
end

--- One page: pending rows with key > after and key <= upto, in key order, at most `limit`.
function phase.fetch(rs, after, upto, limit)
  local where, params = {}, {}
  if rs.pending_sql then where[#where + 1] = "(" .. rs.pending_sql .. ")" end
  if after then where[#where + 1] = row_compare(rs, ">", after, params) end
  if upto then where[#where + 1] = row_compare(rs, "<=", upto, params) end
  local sql = "SELECT s.* FROM (" .. rs.source_sql .. ") s"
    .. (#where > 0 and (" WHERE " .. table.concat(where, " AND ")) or "")
    .. " ORDER BY " .. rs.order_sql .. " LIMIT " .. math.floor(limit)
  return rs.conn:query(sql, unpack(params, 1, #params))
end

--- Key values of a row as text (stored in checkpoints; PostgreSQL casts them back when compared).
function phase.key_values(rs, row)
  local out = {}
  for i, k in ipairs(rs.keys) do out[i] = context.value_text(row[k]) end
  return out
end

--- Source rows and pending rows (nil when the set has no pending predicate) at this moment.
function phase.totals(rs)
  if rs.pending_sql then
    local r = rs.conn:query("SELECT count(*) AS source, count(*) FILTER (WHERE " .. rs.pending_sql
      .. ") AS pending FROM (" .. rs.source_sql .. ") s")[1]
    return tonumber(r.source), tonumber(r.pending)
  end
  return tonumber(rs.conn:scalar("SELECT count(*) FROM (" .. rs.source_sql .. ") s")), nil
end

--- Splits the rows still to do into up to n key ranges of similar size: parts {lo, hi} where a
--- part holds lo < key <= hi (nil = open end).
function phase.split(rs, n)
  if n <= 1 then return {{done = 0}} end
  local cols = {}
  for i, k in ipairs(rs.keys) do cols[i] = "s." .. db.quote_ident(k) end
  local desc = {}
  for i, e in ipairs(rs.keyexpr) do desc[i] = e:gsub("^s%.", "x.") .. " DESC" end
  local sql = "SELECT DISTINCT ON (b) x.* FROM (SELECT " .. table.concat(cols, ", ") .. ", ntile(" .. math.floor(n)
    .. ") OVER (ORDER BY " .. rs.order_sql .. ") AS b FROM (" .. rs.source_sql .. ") s"
    .. (rs.pending_sql and (" WHERE " .. rs.pending_sql) or "") .. ") x ORDER BY b, " .. table.concat(desc, ", ")
  local bounds = rs.conn:query(sql)
  local parts, lo = {}, nil
  for i = 1, #bounds - 1 do
    local hi = phase.key_values(rs, bounds[i])
    parts[#parts + 1] = {lo = lo, hi = hi, done = 0}
    lo = hi
  end
  parts[#parts + 1] = {lo = lo, done = 0}
  return parts
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

--- Runs the batches of one part until it is exhausted, the budget (--limit) is spent, or a stop
--- is asked for. run: {conns, def, ctx, run_id, batch_size, budget, on_batch(ph, rows, written)}.
--- Returns "done", "limit" or "stopped" and the reason.
function phase.run_part(run, ph, rs, part, index)
  local ctx, target = run.ctx, run.conns[run.def.ledger]
  local after = part.last or part.lo
  if part.complete then return "done" end
  while true do
    local reason = context.stop_reason(run)
    if reason then return "stopped", reason end
    local want = run.batch_size
    if run.budget then
      want = math.min(want, run.budget.left)
      if want <= 0 then return "limit" end
    end
    local got, written, new_part = 0, 0, nil
    local what = string.format("phase %s, batch after key %s", ph.name, after and table.concat(after, "|") or "(start)")
    context.with_retry(run, what, function()
      context.take_pending(ctx, false)
      local rows = (rs.conn ~= target) and phase.fetch(rs, after, part.hi, want) or nil
      target:tx(function()
        rows = rows or phase.fetch(rs, after, part.hi, want)
        got = #rows
        new_part = copy(part)
        if got == 0 then
          new_part.complete = true
          if not part.complete then ledger.set_part_checkpoint(target, run.run_id, ph.name, index, new_part) end
          return
        end
        ctx.phase = rs.name
        written = ph.batch(ctx, rows) or 0
        if type(written) ~= "number" then
          error(string.format("phase %s: batch must return the number of rows it wrote (got %s)", ph.name,
            type(written)), 0)
        end
        new_part.last = phase.key_values(rs, rows[#rows])
        new_part.done = (part.done or 0) + got
        new_part.complete = got < want
        ledger.set_part_checkpoint(target, run.run_id, ph.name, index, new_part)
      end)
    end)
    local tallies = context.take_pending(ctx, true)
    for k, v in pairs(new_part) do part[k] = v end
    if got == 0 then return "done" end
    after = part.last
    if run.budget then run.budget.left = run.budget.left - got end
    run.on_batch(ph, rs, got, written, tallies)
    if part.complete then return "done" end
  end
end

--- Runs a step phase: ph.step(ctx) in its own transaction, again and again, until it returns 0/nil
--- (nothing left) or a stop is asked for. Returns "done"/"stopped" and the reason.
function phase.run_steps(run, ph)
  local ctx, target = run.ctx, run.conns[run.def.ledger]
  while true do
    local reason = context.stop_reason(run)
    if reason then return "stopped", reason end
    local n = 0
    context.with_retry(run, "phase " .. ph.name .. " step", function()
      context.take_pending(ctx, false)
      target:tx(function()
        ctx.phase = ph.name
        n = ph.step(ctx) or 0
      end)
    end)
    local tallies = context.take_pending(ctx, true)
    if type(n) ~= "number" or n <= 0 then return "done" end
    run.on_batch(ph, nil, n, n, tallies)
  end
end

--- counts.<set> = {source, migrated, rejected} as the data stands now.
function phase.counts(run, rs, decl)
  local ledger_conn = run.conns[run.def.ledger]
  if rs.migrated_sql and rs.conn == ledger_conn then
    local r = rs.conn:query("SELECT count(*) AS source, count(*) FILTER (WHERE " .. rs.migrated_sql
      .. ") AS migrated, count(*) FILTER (WHERE " .. rs.rejected_sql .. ") AS rejected FROM ("
      .. rs.source_sql .. ") s")[1]
    return {source = r.source, migrated = r.migrated, rejected = r.rejected}
  end
  local source = rs.conn:scalar("SELECT count(*) FROM (" .. rs.source_sql .. ") s")
  local migrated = decl.migrated_count
  if type(migrated) == "function" then migrated = migrated(run.ctx)
  elseif type(migrated) == "string" then migrated = ledger_conn:scalar(migrated) end
  local rejected = ledger_conn:scalar([[SELECT count(*) FROM mig_meta.rejects WHERE migration = $1
      AND source_table = $2]], run.def.name, rs.name)
  return {source = source, migrated = migrated or 0, rejected = rejected}
end

return phase
