-- mighost.mig_phase: source sets and batched phases — keyset pagination over a source query,
-- one transaction per batch (target writes, rejects, fixups and the checkpoint), key-range parts
-- for workers, step phases (a function called until it has nothing left), and the counts.
local db = require "mighost.db"
local context = require "mighost.mig_context"

local phase = {}

local TEXT_TYPES = {text = true, varchar = true, bpchar = true, name = true, citext = true}

local function eval(v, ctx)
  if type(v) == "function" then return v(ctx) end
  return v
end

local function lit(s) return db.quote_literal(s) end

-- Collations that already sort text in byte order (glibc >= 2.35 C.UTF-8: code point order).
local BYTEWISE = {C = true, POSIX = true, ["C.UTF-8"] = true, ["C.utf8"] = true}

--- True when the key column's collation already orders like COLLATE "C": the clause is then left
--- out, so that the key's index serves each page instead of a sort of the whole set per batch.
function phase.orders_bytewise(rs, k)
  local coll = rs.conn:scalar("SELECT CASE WHEN c = 'default' THEN (SELECT datcollate FROM pg_database"
    .. " WHERE datname = current_database()) ELSE c END FROM (SELECT trim(both '\"' from pg_collation_for((SELECT s."
    .. db.quote_ident(k) .. " FROM (" .. rs.source_sql .. ") s LIMIT 1))) AS c) x")
  return BYTEWISE[coll] == true
end

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
    local text_key = TEXT_TYPES[rs.types[k]] and not phase.orders_bytewise(rs, k)
    rs.keyexpr[i] = text_key and (q .. ' COLLATE "C"') or q
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

--- Resolves every source set of the declaration (keyset phases, then `sets`) into run.sets,
--- run.set_decls (name -> declaration) and run.exported_sets (their plain data, for workers). The
--- same path serves run, verify and workers; a worker passes the exported data it received
--- (`exported`), which needs none of the script's functions.
function phase.resolve_all(run, exported)
  local json = require "mighost.mig_json"
  local def = run.def
  run.sets, run.set_decls, run.exported_sets = {}, {}, json.array()
  local given = {}
  for _, e in ipairs(exported or {}) do given[e.name] = e end
  local function add(decl)
    local rs = phase.resolve(run, (exported and given[decl.name]) or decl)
    run.sets[decl.name], run.set_decls[decl.name] = rs, decl
    run.exported_sets[#run.exported_sets + 1] = phase.export(rs)
  end
  for _, p in ipairs(def.phases) do
    if not p.step and (not exported or given[p.name]) then add(p) end
  end
  for _, s in ipairs(def.sets) do
    if not exported or given[s.name] then add(s) end
  end
end

--- counts.<set> = {source, migrated, rejected, written} for every set as the data stands now,
--- plus the counts a step phase declares (done = rows its steps handled).
function phase.count_all(run, written, done)
  local counts = {}
  for _, name in ipairs(run.def.set_names) do
    local c = phase.counts(run, run.sets[name], run.set_decls[name])
    c.written = (written and written[name]) or 0
    counts[name] = c
  end
  for _, ph in ipairs(run.def.phases) do
    if ph.step and ph.counts then counts[ph.name] = ph.counts(run.ctx, (done and done[ph.name]) or 0) end
  end
  return counts
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

local MARKS = {__mig_pending = true, __mig_last = true, __mig_window = true}

--- The range predicate after < key <= upto over alias s, its parameters appended to params.
local function range_where(rs, after, upto, params)
  local where = {}
  if after then where[#where + 1] = row_compare(rs, ">", after, params) end
  if upto then where[#where + 1] = row_compare(rs, "<=", upto, params) end
  return where
end

--- The per-row pending probe as a join (alias p, column pending): `true` without a probe. OFFSET 0
--- keeps the LATERAL subquery from being flattened: it is planned for one row, so its EXISTS probe
--- the target's index per row instead of hashing the whole target table for every window (which
--- the planner prefers for ~1000 outer rows).
local function pending_join(rs, probe)
  return " CROSS JOIN LATERAL (SELECT " .. (probe and ("(" .. rs.pending_sql .. ")") or "true")
    .. " AS pending OFFSET 0) p"
end

--- One window: the next `limit` source rows with after < key <= upto in key order (an index range
--- scan on the key, whatever the planner thinks of the pending predicate), of which only the
--- pending ones are returned. opts.all_pending: every row of the range is known to be pending, so
--- the per-row probe is left out. Returns the pending rows (with .columns/.types), the key of the
--- window's last row (nil when the window is empty) and the window's size.
--- opts.range (fetch = "range"): no row is shipped at all, only the window's last key, its size
--- and its number of pending rows (rows.count; the rows list itself stays empty).
function phase.fetch(rs, after, upto, limit, opts)
  opts = opts or {}
  local params = {}
  local where = range_where(rs, after, upto, params)
  local desc, cols = {}, {}
  for i, e in ipairs(rs.keyexpr) do desc[i] = e .. " DESC" end
  for i, k in ipairs(rs.keys) do cols[i] = "s." .. db.quote_ident(k) end
  local probe = rs.pending_sql and not opts.all_pending
  -- range without a probe: the window needs no other column than the key (an index-only scan may do)
  local inner = (opts.range and not probe) and table.concat(cols, ", ") or "s.*"
  local window = "SELECT " .. inner .. " FROM (" .. rs.source_sql .. ") s"
    .. (#where > 0 and (" WHERE " .. table.concat(where, " AND ")) or "")
    .. " ORDER BY " .. rs.order_sql .. " LIMIT " .. math.floor(limit)
  if opts.range then return phase.fetch_range(rs, window, probe, cols, desc, params) end
  local sql = "WITH w AS MATERIALIZED (SELECT s.*, p.pending AS __mig_pending, row_number() OVER (ORDER BY "
    .. table.concat(desc, ", ") .. ") AS __mig_last, count(*) OVER () AS __mig_window FROM (" .. window .. ") s"
    .. pending_join(rs, probe) .. ") SELECT * FROM w s WHERE s.__mig_last = 1 OR s.__mig_pending ORDER BY "
    .. rs.order_sql
  local all = rs.conn:query(sql, unpack(params, 1, #params))
  local rows = {columns = {}, types = {}}
  for i, c in ipairs(all.columns) do
    if not MARKS[c] then
      rows.columns[#rows.columns + 1] = c
      rows.types[#rows.types + 1] = all.types[i]
    end
  end
  local last, size = nil, 0
  for _, r in ipairs(all) do
    size = tonumber(r.__mig_window)
    if r.__mig_last == 1 then last = phase.key_values(rs, r) end
    local pending = r.__mig_pending == true
    r.__mig_pending, r.__mig_last, r.__mig_window = nil, nil, nil
    if pending then rows[#rows + 1] = r end
  end
  return rows, last, size
end

--- The range form of phase.fetch: one row back (the last key; the window's size and pending
--- count as window aggregates over the index-ordered window), instead of every key sorted twice
--- and turned into Lua tables (~35 of the ~135 ms of a 5000-row stock_batches window).
function phase.fetch_range(rs, window, probe, cols, desc, params)
  local sql = "SELECT " .. table.concat(cols, ", ") .. ", count(*) OVER () AS __mig_window, "
    .. (probe and "count(*) FILTER (WHERE p.pending) OVER ()" or "count(*) OVER ()") .. " AS __mig_npending"
    .. " FROM (" .. window .. ") s" .. (probe and pending_join(rs, probe) or "")
    .. " ORDER BY " .. table.concat(desc, ", ") .. " LIMIT 1"
  local r = rs.conn:query(sql, unpack(params, 1, #params))[1]
  local rows = {columns = {}, types = {}, count = 0}
  if not r then return rows, nil, 0 end
  rows.count = tonumber(r.__mig_npending)
  return rows, phase.key_values(rs, r), tonumber(r.__mig_window)
end

--- ctx.window of a batch: its key range, and (set on the ledger connection) `source`, the SQL of
--- a subquery over the range's pending source rows with its parameters `params` ($1..$n), so
--- that a set-based batch reads its rows with one index range scan instead of a key list.
function phase.window(rs, target, after, last, all_pending)
  local w = {after = after, last = last, all_pending = all_pending or false}
  if rs.conn == target then
    local params = {}
    local where = range_where(rs, after, last, params)
    if rs.pending_sql and not all_pending then where[#where + 1] = "(" .. rs.pending_sql .. ")" end
    w.source = "SELECT s.* FROM (" .. rs.source_sql .. ") s WHERE " .. table.concat(where, " AND ")
    w.params = params
  end
  return w
end

--- Key values of a row as text (stored in checkpoints; PostgreSQL casts them back when compared).
function phase.key_values(rs, row)
  local out = {}
  for i, k in ipairs(rs.keys) do out[i] = context.value_text(row[k]) end
  return out
end

--- Source rows and pending rows (nil when the set has no pending predicate) at this moment.
--- fresh: true when the phase knows that nothing of the set is resolved yet (pending = source,
--- without probing every row).
function phase.totals(rs, fresh)
  if rs.pending_sql and not fresh then
    local r = rs.conn:query("SELECT count(*) AS source, count(*) FILTER (WHERE " .. rs.pending_sql
      .. ") AS pending FROM (" .. rs.source_sql .. ") s")[1]
    return tonumber(r.source), tonumber(r.pending)
  end
  local n = tonumber(rs.conn:scalar("SELECT count(*) FROM (" .. rs.source_sql .. ") s"))
  if rs.pending_sql then return n, n end
  return n, nil
end

--- True when the phase declares `fresh` (SQL on the ledger connection, or function(ctx), true when
--- no row of the set can be migrated yet, e.g. the target has no migrated row) and it holds, and
--- mig_meta has no reject of the set: every source row is pending.
function phase.is_fresh(run, ph, rs)
  if not ph.fresh or not rs.pending_sql then return false end
  local ledger_conn = run.conns[run.def.ledger]
  local v = ph.fresh
  if type(v) == "function" then v = v(run.ctx) else v = ledger_conn:scalar(v) end
  if v ~= true then return false end
  if ledger_conn:scalar("SELECT to_regclass('mig_meta.rejects') IS NULL") then return true end
  return ledger_conn:scalar([[SELECT NOT EXISTS (SELECT 1 FROM mig_meta.rejects WHERE migration = $1
      AND source_table = $2)]], run.def.name, rs.name) == true
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

--- Runs the batches of one part until it is exhausted, the budget (--limit) is spent, or a stop
--- is asked for. run: {conns, def, ctx, run_id, batch_size, budget, on_batch(ph, rs, got, written,
--- tallies)}. A window without pending rows costs no transaction and no checkpoint (a repeated or
--- resumed run walks past resolved rows cheaply). Returns "done", "limit" or "stopped" and the reason.
function phase.run_part(run, ph, rs, part, index)
  local batch = require "mighost.mig_batch"
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
    local b = batch.keyset(run, ph, rs, part, index, after, want):run_keyset()
    for k, v in pairs(b.new_part) do part[k] = v end
    after = part.last
    if b.got > 0 then
      if run.budget then run.budget.left = run.budget.left - b.got end
      run.on_batch(ph, rs, b.got, b.written, b.tallies)
    end
    if part.complete then return "done" end
  end
end

--- Runs a step phase: ph.step(ctx) in its own transaction, again and again, until it returns 0/nil
--- (nothing left) or a stop is asked for. Returns "done"/"stopped" and the reason.
function phase.run_steps(run, ph)
  local batch = require "mighost.mig_batch"
  while true do
    local reason = context.stop_reason(run)
    if reason then return "stopped", reason end
    local b = batch.step(run, ph):run_step()
    if b.got <= 0 then return "done" end
    run.on_batch(ph, nil, b.got, b.written, b.tallies)
  end
end

--- counts.<set> = {source, migrated, rejected} as the data stands now.
--- A declared migrated_count (SQL or function) is used even when `migrated` could be probed per
--- row: it is the faster equivalent a script can give for a large set (e.g. one hash join).
function phase.counts(run, rs, decl)
  local ledger_conn = run.conns[run.def.ledger]
  if rs.migrated_sql and rs.conn == ledger_conn and decl.migrated_count == nil then
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
