-- mighost.mig_sets: the source sets of a run. A SourceSet is one set resolved into SQL (its source,
-- key, migrated / rejected / pending predicates over alias `s`) on its connection; it reads its
-- windows, totals, key ranges and counts. Sets is the collection a Run owns: every set of the
-- declaration (keyset phases, then `sets`), resolved once by the one path that run, verify and
-- workers share (Sets.resolve), and what a worker needs to rebuild it (Sets:export).
local db = require "mighost.db"
local context = require "mighost.mig_context"
local json = require "mighost.mig_json"

local sets = {}

--- A resolved source set. Fields (set by resolution, read-only afterwards):
---   name, from (connection name), conn, source_sql, keys (column names), types (column -> type),
---   keyexpr[i] (s."k", COLLATE "C" for text keys that need it), keytext[i], keytext_sql,
---   order_sql, migrated_sql, migrated_count (the declaration's), pending_decl (the declared
---   pending predicate), pending_sql (nil: no per-row pending test), rejected_sql.
local SourceSet = {}
SourceSet.__index = SourceSet

--- The collection of a run's resolved sets. Fields: by_name (name -> SourceSet), decls (name ->
--- the declaration it came from), order (names), ledger (the ledger connection), migration (name).
local Sets = {}
Sets.__index = Sets

local TEXT_TYPES = {text = true, varchar = true, bpchar = true, name = true, citext = true}

-- Collations that already sort text in byte order (glibc >= 2.35 C.UTF-8: code point order).
local BYTEWISE = {C = true, POSIX = true, ["C.UTF-8"] = true, ["C.utf8"] = true}

local function eval(v, ctx)
  if type(v) == "function" then return v(ctx) end
  return v
end

local function lit(s) return db.quote_literal(s) end

--- True when the key column's collation already orders like COLLATE "C": the clause is then left
--- out, so that the key's index serves each page instead of a sort of the whole set per batch.
function SourceSet:orders_bytewise(k)
  local coll = self.conn:scalar("SELECT CASE WHEN c = 'default' THEN (SELECT datcollate FROM pg_database"
    .. " WHERE datname = current_database()) ELSE c END FROM (SELECT trim(both '\"' from pg_collation_for((SELECT s."
    .. db.quote_ident(k) .. " FROM (" .. self.source_sql .. ") s LIMIT 1))) AS c) x")
  return BYTEWISE[coll] == true
end

--- Resolves one set declaration (or the exported data of one, which a worker receives) into SQL.
--- conns: name -> connection; ledger: the ledger connection's name; ctx evaluates SQL functions.
local function resolve(decl, conns, ledger, migration, ctx)
  local rs = setmetatable({name = decl.name, from = decl.from or ledger}, SourceSet)
  rs.conn = conns[rs.from] or error("source set " .. decl.name .. ": unknown connection '" .. rs.from .. "'", 0)
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
    local text_key = TEXT_TYPES[rs.types[k]] and not rs:orders_bytewise(k)
    rs.keyexpr[i] = text_key and (q .. ' COLLATE "C"') or q
    rs.keytext[i] = q .. "::text"
  end
  rs.keytext_sql = #rs.keys == 1 and rs.keytext[1] or ("concat_ws('|', " .. table.concat(rs.keytext, ", ") .. ")")
  rs.order_sql = table.concat(rs.keyexpr, ", ")
  rs.rejected_sql = "EXISTS (SELECT 1 FROM mig_meta.rejects r WHERE r.migration = " .. lit(migration)
    .. " AND r.source_table = " .. lit(rs.name) .. " AND r.source_key = " .. rs.keytext_sql .. ")"
  if rs.pending_decl then
    rs.pending_sql = rs.pending_decl
  elseif rs.migrated_sql and rs.conn == conns[ledger] then
    rs.pending_sql = "NOT (" .. rs.migrated_sql .. ") AND NOT " .. rs.rejected_sql
  end
  return rs
end

--- Resolves every source set of the declaration def (keyset phases, then `sets`). The one path
--- of run, verify and workers: a worker passes the exported data it received (`exported`), which
--- needs none of the script's functions, and gets only those sets.
function sets.resolve(def, conns, ctx, exported)
  local self = setmetatable({by_name = {}, decls = {}, order = {}, ledger = conns[def.ledger],
                             migration = def.name, def = def, ctx = ctx}, Sets)
  local given = {}
  for _, e in ipairs(exported or {}) do given[e.name] = e end
  local function add(decl)
    if exported and not given[decl.name] then return end
    self.by_name[decl.name] = resolve((exported and given[decl.name]) or decl, conns, def.ledger, def.name, ctx)
    self.decls[decl.name] = decl
    self.order[#self.order + 1] = decl.name
  end
  for _, p in ipairs(def.phases) do
    if not p.step then add(p) end
  end
  for _, s in ipairs(def.sets) do add(s) end
  return self
end

--- The resolved set `name`, or nil.
function Sets:get(name) return self.by_name[name] end

--- The plain data of every set (what a worker needs to rebuild them without the script's functions).
function Sets:export()
  local out = json.array()
  for _, name in ipairs(self.order) do
    local rs = self.by_name[name]
    out[#out + 1] = {name = rs.name, from = rs.from, source_sql = rs.source_sql, keys = rs.keys,
                     migrated_sql = rs.migrated_sql, pending_sql = rs.pending_decl, types = rs.types}
  end
  return out
end

--- counts.<set> = {source, migrated, rejected} as the data stands now.
--- A declared migrated_count (SQL or function) is used even when `migrated` could be probed per
--- row: it is the faster equivalent a script can give for a large set (e.g. one hash join).
function Sets:counts_of(name)
  local rs, decl, ledger_conn = self.by_name[name], self.decls[name], self.ledger
  if rs.migrated_sql and rs.conn == ledger_conn and decl.migrated_count == nil then
    local r = rs.conn:query("SELECT count(*) AS source, count(*) FILTER (WHERE " .. rs.migrated_sql
      .. ") AS migrated, count(*) FILTER (WHERE " .. rs.rejected_sql .. ") AS rejected FROM ("
      .. rs.source_sql .. ") s")[1]
    return {source = r.source, migrated = r.migrated, rejected = r.rejected}
  end
  local source = rs.conn:scalar("SELECT count(*) FROM (" .. rs.source_sql .. ") s")
  local migrated = decl.migrated_count
  if type(migrated) == "function" then migrated = migrated(self.ctx)
  elseif type(migrated) == "string" then migrated = ledger_conn:scalar(migrated) end
  local rejected = ledger_conn:scalar([[SELECT count(*) FROM mig_meta.rejects WHERE migration = $1
      AND source_table = $2]], self.migration, rs.name)
  return {source = source, migrated = migrated or 0, rejected = rejected}
end

--- counts.<set> = {source, migrated, rejected, written} for every set as the data stands now,
--- plus the counts a step phase declares (done = rows its steps handled). written / done: the
--- phase runner's tallies (nil under verify).
function Sets:count_all(written, done)
  local counts = {}
  for _, name in ipairs(self.def.set_names) do
    local c = self:counts_of(name)
    c.written = (written and written[name]) or 0
    counts[name] = c
  end
  for _, ph in ipairs(self.def.phases) do
    if ph.step and ph.counts then counts[ph.name] = ph.counts(self.ctx, (done and done[ph.name]) or 0) end
  end
  return counts
end

--- True when the phase declares `fresh` (SQL on the ledger connection, or function(ctx), true when
--- no row of the set can be migrated yet, e.g. the target has no migrated row) and it holds, and
--- mig_meta has no reject of the set: every source row is pending.
function Sets:is_fresh(ph)
  local rs = self.by_name[ph.name]
  if not ph.fresh or not rs.pending_sql then return false end
  local v = ph.fresh
  if type(v) == "function" then v = v(self.ctx) else v = self.ledger:scalar(v) end
  if v ~= true then return false end
  if self.ledger:scalar("SELECT to_regclass('mig_meta.rejects') IS NULL") then return true end
  return self.ledger:scalar([[SELECT NOT EXISTS (SELECT 1 FROM mig_meta.rejects WHERE migration = $1
      AND source_table = $2)]], self.migration, rs.name) == true
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
function SourceSet:fetch(after, upto, limit, opts)
  opts = opts or {}
  local params = {}
  local where = range_where(self, after, upto, params)
  local desc, cols = {}, {}
  for i, e in ipairs(self.keyexpr) do desc[i] = e .. " DESC" end
  for i, k in ipairs(self.keys) do cols[i] = "s." .. db.quote_ident(k) end
  local probe = self.pending_sql and not opts.all_pending
  -- range without a probe: the window needs no other column than the key (an index-only scan may do)
  local inner = (opts.range and not probe) and table.concat(cols, ", ") or "s.*"
  local base = "SELECT " .. inner .. " FROM (" .. self.source_sql .. ") s"
    .. (#where > 0 and (" WHERE " .. table.concat(where, " AND ")) or "")
  limit = math.floor(limit)
  if opts.range then return self:fetch_range(base, limit, probe, cols, desc, params) end
  local window = base .. " ORDER BY " .. self.order_sql .. " LIMIT " .. limit
  local sql = "WITH w AS MATERIALIZED (SELECT s.*, p.pending AS __mig_pending, row_number() OVER (ORDER BY "
    .. table.concat(desc, ", ") .. ") AS __mig_last, count(*) OVER () AS __mig_window FROM (" .. window .. ") s"
    .. pending_join(self, probe) .. ") SELECT * FROM w s WHERE s.__mig_last = 1 OR s.__mig_pending ORDER BY "
    .. self.order_sql
  local all = self.conn:query(sql, unpack(params, 1, #params))
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
    if r.__mig_last == 1 then last = self:key_values(r) end
    local pending = r.__mig_pending == true
    r.__mig_pending, r.__mig_last, r.__mig_window = nil, nil, nil
    if pending then rows[#rows + 1] = r end
  end
  return rows, last, size
end

--- The range form of fetch: one row back (the last key; the window's size and pending count as
--- window aggregates over the index-ordered window), instead of every key sorted twice and
--- turned into Lua tables (a quarter of a large window's time: tests/bench/README.md).
--- base: the window's rows as a SELECT without ORDER BY.
function SourceSet:fetch_range(base, limit, probe, cols, desc, params)
  local function counted(n) return {columns = {}, types = {}, count = n} end
  local ordered = base .. " ORDER BY " .. self.order_sql
  if not probe then
    -- A full window's last key is the one at OFFSET limit-1 of the key order, read straight off the
    -- index without the window aggregate and the sort of every key below it.
    local r = self.conn:query(ordered .. " OFFSET " .. (limit - 1) .. " LIMIT 1", unpack(params, 1, #params))[1]
    if r then return counted(limit), self:key_values(r), limit end
    -- A shorter one holds every row of the range: its size is the range's count and its last key
    -- the greatest, both read off the index in one statement (one snapshot).
    r = self.conn:query("SELECT " .. table.concat(cols, ", ") .. ", (SELECT count(*) FROM (" .. base
      .. ") c) AS __mig_window FROM (" .. base .. " ORDER BY " .. table.concat(desc, ", ") .. " LIMIT 1) s",
      unpack(params, 1, #params))[1]
    if not r then return counted(0), nil, 0 end
    local n = tonumber(r.__mig_window)
    return counted(n), self:key_values(r), n
  end
  local window = ordered .. " LIMIT " .. limit
  local sql = "SELECT " .. table.concat(cols, ", ") .. ", count(*) OVER () AS __mig_window, "
    .. (probe and "count(*) FILTER (WHERE p.pending) OVER ()" or "count(*) OVER ()") .. " AS __mig_npending"
    .. " FROM (" .. window .. ") s" .. (probe and pending_join(self, probe) or "")
    .. " ORDER BY " .. table.concat(desc, ", ") .. " LIMIT 1"
  local r = self.conn:query(sql, unpack(params, 1, #params))[1]
  if not r then return counted(0), nil, 0 end
  return counted(tonumber(r.__mig_npending)), self:key_values(r), tonumber(r.__mig_window)
end

--- ctx.window of a batch: its key range, and (set on the ledger connection) `source`, the SQL of
--- a subquery over the range's pending source rows with its parameters `params` ($1..$n), so
--- that a set-based batch reads its rows with one index range scan instead of a key list.
function SourceSet:window(target, after, last, all_pending)
  local w = {after = after, last = last, all_pending = all_pending or false}
  if self.conn == target then
    local params = {}
    local where = range_where(self, after, last, params)
    if self.pending_sql and not all_pending then where[#where + 1] = "(" .. self.pending_sql .. ")" end
    w.source = "SELECT s.* FROM (" .. self.source_sql .. ") s WHERE " .. table.concat(where, " AND ")
    w.params = params
  end
  return w
end

--- Key values of a row as text (stored in checkpoints; PostgreSQL casts them back when compared).
function SourceSet:key_values(row)
  local out = {}
  for i, k in ipairs(self.keys) do out[i] = context.value_text(row[k]) end
  return out
end

--- Source rows and pending rows (nil when the set has no pending predicate) at this moment.
--- fresh: true when the phase knows that nothing of the set is resolved yet (pending = source,
--- without probing every row).
function SourceSet:totals(fresh)
  if self.pending_sql and not fresh then
    local r = self.conn:query("SELECT count(*) AS source, count(*) FILTER (WHERE " .. self.pending_sql
      .. ") AS pending FROM (" .. self.source_sql .. ") s")[1]
    return tonumber(r.source), tonumber(r.pending)
  end
  local n = tonumber(self.conn:scalar("SELECT count(*) FROM (" .. self.source_sql .. ") s"))
  if self.pending_sql then return n, n end
  return n, nil
end

--- Splits the rows still to do into up to n key ranges of similar size: parts {lo, hi} where a
--- part holds lo < key <= hi (nil = open end).
function SourceSet:split(n)
  if n <= 1 then return {{done = 0}} end
  local cols = {}
  for i, k in ipairs(self.keys) do cols[i] = "s." .. db.quote_ident(k) end
  local desc = {}
  for i, e in ipairs(self.keyexpr) do desc[i] = e:gsub("^s%.", "x.") .. " DESC" end
  local sql = "SELECT DISTINCT ON (b) x.* FROM (SELECT " .. table.concat(cols, ", ") .. ", ntile(" .. math.floor(n)
    .. ") OVER (ORDER BY " .. self.order_sql .. ") AS b FROM (" .. self.source_sql .. ") s"
    .. (self.pending_sql and (" WHERE " .. self.pending_sql) or "") .. ") x ORDER BY b, " .. table.concat(desc, ", ")
  local bounds = self.conn:query(sql)
  local parts, lo = {}, nil
  for i = 1, #bounds - 1 do
    local hi = self:key_values(bounds[i])
    parts[#parts + 1] = {lo = lo, hi = hi, done = 0}
    lo = hi
  end
  parts[#parts + 1] = {lo = lo, done = 0}
  return parts
end

return sets
