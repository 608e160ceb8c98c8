-- mighost.mig_pipe: a declared phase whose source sits on another connection (another database,
-- or a read-only snapshot session of the same one) and whose values and rules are all SQL. Per
-- batch, the source's PostgreSQL computes the window's mapped values and its SQL reject rule, and
-- the COPY text goes straight into a stage table of the target's session (conn:copy_from, as
-- `psql \copy … TO STDOUT | psql \copy … FROM STDIN` does; no row becomes a Lua value). There,
-- in the batch's transaction, set-based SQL applies the rules that need the target (`missing`:
-- a reference to a row that is not migrated; `duplicate`: a value another row already holds),
-- keeps or nulls the references (logging fixups) and inserts the rows.
--
-- Deferred references (`deferred = true`) may name a row that arrives later (a parent bag with a
-- higher id): after the phase's last batch, each such reference nulled by a batch whose row has
-- arrived since is restored and its fixup removed (mig_pipe.restore_deferred).
local db = require "mighost.db"
local schema = require "mighost.schema"
local msql = require "mighost.mig_mapping_sql"

local pipe = {}
local qi, lit = db.quote_ident, db.quote_literal

local function list(v) return type(v) == "table" and v or {v} end

--- A reject rule evaluated over the target: {code, missing = {col = {table, key}, …}} (some listed
--- column names no row of its table, NULL included) or {code, duplicate = {col, …}} (another row
--- already holds these values: a target row, or an earlier row of the batch not rejected by an
--- earlier rule; rows with a NULL in them never collide). `detail`: SQL over s, the row as mapped.
function pipe.rule(r, code, cond, fail)
  if cond ~= nil then fail("a missing/duplicate rule takes no condition") end
  if (r.missing ~= nil) == (r.duplicate ~= nil) then fail("give either missing or duplicate") end
  if r.detail ~= nil and type(r.detail) ~= "string" then fail("detail must be SQL over s (the row as mapped)") end
  local out = {code = code, detail = r.detail, target_side = true}
  if r.duplicate ~= nil then
    out.duplicate = list(r.duplicate)
    return out
  end
  if type(r.missing) ~= "table" then fail("missing must be {column = {table, key}, …}") end
  out.missing = {}
  for col, ref in pairs(r.missing) do
    local t, k = type(ref) == "table" and (ref.table or ref[1]) or ref, type(ref) == "table" and (ref.key or ref[2]) or "id"
    if type(col) ~= "string" or type(t) ~= "string" or type(k) ~= "string" then
      fail("missing must be {column = {table, key}, …}")
    end
    out.missing[#out.missing + 1] = {column = col, table = t, key = k}
  end
  table.sort(out.missing, function(a, b) return a.column < b.column end)
  return out
end

--- Define-time checks of what only a piped phase can do. fail(key, msg) raises naming the script line.
function pipe.validate(m, fail)
  local needs
  for i, r in ipairs(m.rules) do
    if r.target_side then
      needs = needs or ("rejects[" .. i .. "] (" .. r.code .. ")")
      for _, c in ipairs(r.missing or r.duplicate) do
        local col = type(c) == "table" and c.column or c
        if not m.map[col] then fail("rejects", r.code .. ": " .. col .. " needs an SQL mapping in `map`") end
      end
      if r.duplicate and i ~= #m.rules then   -- a later rule could reject the row that won
        fail("rejects", r.code .. ": a duplicate rule must be the last rule")
      end
    end
  end
  for _, r in ipairs(m.refs) do
    if r.deferred or r.not_self then needs = needs or ("references." .. r.column) end
    if (r.deferred or r.not_self) and r.table ~= m.target then
      fail(r.column, "references." .. r.column .. ": deferred / not_self are for a reference to the phase's own target")
    end
  end
  if needs and not m.piped then
    fail("rejects", needs .. " needs the source on another connection (from = …), every map value in SQL and a"
      .. " one-column key")
  end
end

local function stage_name(m) return (("mig_pipe_" .. m.name):gsub("[^%w_]", "_"):sub(1, 55)) end

--- The stage table of this session (temporary, emptied at each commit): the mapped target columns
--- typed as the target's base types — no length or precision, so that a row a rule rejects still
--- fits — and the framework's own: source key text, position, rule, detail, row data.
local function ensure_stage(m, ctx)
  local name = stage_name(m)
  if not m.stage_ddl then
    local types = {}
    for _, c in ipairs(ctx.db:query([[SELECT attname, format_type(atttypid, NULL) AS type FROM pg_attribute
        WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped]], schema.qualify(m.target))) do
      types[c.attname] = c.type
    end
    local cols = {}
    for i, c in ipairs(m.columns) do
      cols[i] = qi(c) .. " " .. (types[c] or error("phase " .. m.name .. ": " .. m.target .. " has no column " .. c, 0))
    end
    m.stage_ddl = "CREATE TEMP TABLE IF NOT EXISTS " .. qi(name) .. " (" .. table.concat(cols, ", ")
      .. ", __mig_key text, __mig_ord bigint, __mig_rule int, __mig_detail text, __mig_row jsonb) ON COMMIT DELETE ROWS"
  end
  -- the columns whose statistics the batch's joins need (row count, rule NULL or not, keys the
  -- stage is joined on): ANALYZE of only those costs a fraction of all
  local stats = {"__mig_ord", "__mig_rule"}
  for _, r in ipairs(m.refs) do
    if r.table == m.target then stats[#stats + 1] = qi(r.key); stats[#stats + 1] = qi(r.column) end
  end
  m.stage_stats = stats
  -- (re)created while absent: a rolled-back batch or dry run drops it with its transaction
  ctx.db:exec(m.stage_ddl)
  -- a dry run's batches are savepoints of one transaction: nothing is deleted at their end
  if ctx.dry_run then ctx.db:exec("DELETE FROM " .. qi(name)) end
  return name
end

--- The batch's window into the stage: the next `limit` source rows after `after` (up to `upto`)
--- in key order, as the source's PostgreSQL maps them. Returns rows ({count = n}), the last key, n.
function pipe.fetch(m, ctx, rs, after, upto, limit)
  local stage = ensure_stage(m, ctx)
  local where = {}
  if after then where[#where + 1] = rs.keyexpr[1] .. " > " .. lit(after[1]) end
  if upto then where[#where + 1] = rs.keyexpr[1] .. " <= " .. lit(upto[1]) end
  local vals, cols = {}, {}
  for i, c in ipairs(m.columns) do
    vals[i] = "w.__mig_v" .. i
    cols[i] = c
  end
  for _, c in ipairs({"__mig_key", "__mig_ord", "__mig_rule", "__mig_detail", "__mig_row"}) do cols[#cols + 1] = c end
  local order = rs.order_sql:gsub("%f[%w_]s%.", "w.")
  -- LIMIT first (an index range scan on the key), then number the window's rows
  local sql = "SELECT " .. table.concat(vals, ", ") .. ", " .. rs.keytext_sql:gsub("%f[%w_]s%.", "w.")
    .. ", row_number() OVER (ORDER BY " .. order .. "), w.__mig_rule, w.__mig_detail, w.__mig_row FROM (SELECT s.* FROM ("
    .. rs.source_sql .. ") s" .. (#where > 0 and (" WHERE " .. table.concat(where, " AND ")) or "")
    .. " ORDER BY " .. rs.order_sql .. " LIMIT " .. math.floor(limit) .. ") w ORDER BY " .. order
  local stored = ctx.db:copy_from(rs.conn, sql, stage, cols)
  if stored == 0 then return {count = 0}, nil, 0 end
  -- statistics of the window, so that the batch joins it with itself by hashing (without them the
  -- planner takes the stage for one row and loops over it for every row) and probes the target's
  -- indexes per row
  ctx.db:exec("ANALYZE " .. qi(stage) .. " (" .. table.concat(m.stage_stats, ", ") .. ")")
  local last = ctx.db:scalar("SELECT __mig_key FROM " .. qi(stage) .. " WHERE __mig_ord = $1", stored)
  return {count = stored, piped = true}, {last}, stored
end

local NOT_REJECTED = "(x.__mig_rule IS NULL OR x.__mig_rule > %d)"

-- What apply_rule's UPDATE returns: the keys of rows rejected without their row data yet.
local RETURNING = " RETURNING x.__mig_key, x.__mig_row IS NULL AS __mig_no_row"

--- Applies rule i over the target: marks the stage rows it rejects (unless an earlier rule did).
--- Returns the rows it marked (their keys and whether they need row data).
local function apply_rule(m, ctx, stage, i, r)
  local free = string.format(NOT_REJECTED, i)
  if r.missing then
    local any, why = {}, {}
    for j, c in ipairs(r.missing) do
      -- OFFSET 0 keeps the probe per row (an index lookup) instead of an anti join that would
      -- read the whole referenced table for every batch
      local absent = "NOT EXISTS (SELECT 1 FROM " .. schema.qualify(c.table) .. " r WHERE r." .. qi(c.key) .. " = x."
        .. qi(c.column) .. " OFFSET 0)"
      any[j] = absent
      why[j] = "CASE WHEN " .. absent .. " THEN " .. lit(c.column .. " ") .. " || COALESCE(x." .. qi(c.column)
        .. "::text, 'NULL') || " .. lit(" is no migrated " .. c.table) .. " END"
    end
    local detail = r.detail and ("(" .. r.detail:gsub("%f[%w_]s%.", "x.") .. ")::text") or ("concat_ws('; ', " .. table.concat(why, ", ") .. ")")
    return ctx.db:query("UPDATE " .. qi(stage) .. " x SET __mig_rule = " .. i .. ", __mig_detail = " .. detail
      .. " WHERE " .. free .. " AND (" .. table.concat(any, " OR ") .. ")" .. RETURNING)
  end
  local cols, notnull, same, other = {}, {}, {}, {}
  for j, c in ipairs(r.duplicate) do
    cols[j] = "x." .. qi(c)
    notnull[j] = "x." .. qi(c) .. " IS NOT NULL"
    same[j] = "t." .. qi(c) .. " = x." .. qi(c)
  end
  for j, k in ipairs(m.target_keys) do other[j] = "t." .. qi(k) .. " IS DISTINCT FROM x." .. qi(k) end
  local keytext = #m.target_keys == 1 and ("t." .. qi(m.target_keys[1]) .. "::text") or "ROW(t.*)::text"
  local prior = "(SELECT " .. keytext .. " FROM " .. schema.qualify(m.target) .. " t WHERE " .. table.concat(same, " AND ")
    .. " AND (" .. table.concat(other, " OR ") .. ") LIMIT 1)"
  local detail = r.detail and ("(" .. r.detail:gsub("%f[%w_]s%.", "x.") .. ")::text")
    or "'duplicate of ' || COALESCE(d.prior, d.first)"
  return ctx.db:query("UPDATE " .. qi(stage) .. " x SET __mig_rule = " .. i .. ", __mig_detail = " .. detail
    .. " FROM (SELECT x.__mig_ord, row_number() OVER w AS rn, first_value(x.__mig_key) OVER w AS first, " .. prior
    .. " AS prior FROM " .. qi(stage) .. " x WHERE " .. free .. " AND " .. table.concat(notnull, " AND ")
    .. " WINDOW w AS (PARTITION BY " .. table.concat(cols, ", ") .. " ORDER BY x.__mig_ord)) d"
    .. " WHERE d.__mig_ord = x.__mig_ord AND (d.rn > 1 OR d.prior IS NOT NULL)" .. RETURNING)
end

--- Row data (to_jsonb of the source row, from the source's snapshot) of the rows a rule over the
--- target rejected (keys); rows a source rule rejected brought theirs.
local function fill_row_data(m, ctx, rs, stage, keys)
  if #keys == 0 then return end
  local k, ks, js = qi(m.keys[1]), {}, {}
  for r in rs.conn:rows("SELECT s." .. k .. "::text AS k, to_jsonb(s)::text AS j FROM (" .. m.source_sql .. ") s WHERE s."
      .. k .. " = ANY (CAST($1 AS " .. rs.types[m.keys[1]] .. "[]))", db.array(keys)) do
    ks[#ks + 1], js[#js + 1] = r.k, r.j
  end
  ctx.db:exec("UPDATE " .. qi(stage) .. " x SET __mig_row = u.j::jsonb FROM unnest($1::text[], $2::text[]) u(k, j)"
    .. " WHERE x.__mig_key = u.k", db.array(ks), db.array(js))
end

--- The joins that resolve the references and the expression of each kept one (ref(i)): a
--- subquery per row, i.e. one index probe of the referenced table (a join would be planned as a
--- hash of the whole table for every batch). A reference to the phase's own target also finds
--- the batch's own migrating rows.
local function references(m, stage)
  local joins, kept = {}, {}
  for i, r in ipairs(m.refs) do
    local rk = qi(r.key)
    local e = "(SELECT r." .. rk .. " FROM " .. schema.qualify(r.table) .. " r WHERE r." .. rk .. " = st." .. qi(r.column) .. ")"
    if r.table == m.target then
      joins[#joins + 1] = " LEFT JOIN " .. qi(stage) .. " q" .. i .. " ON q" .. i .. "." .. rk .. " = st." .. qi(r.column)
        .. " AND q" .. i .. ".__mig_rule IS NULL"
      e = "COALESCE(" .. e .. ", q" .. i .. "." .. rk .. ")"
    end
    if r.not_self then e = "CASE WHEN st." .. qi(r.column) .. " = st." .. rk .. " THEN NULL ELSE " .. e .. " END" end
    kept[i] = e
  end
  return qi(stage) .. " st" .. table.concat(joins), function(i) return kept[i] end
end

--- True when the target held none of the phase's rows as its first batch began (a fresh run): the
--- windows follow each other in key order and the rules reject every duplicate, so no row can
--- meet an existing one and the inserts go without ON CONFLICT (a duplicate would fail the batch,
--- never be lost). Asked once per run and phase.
local function fresh(m, ctx)
  if m.fresh_run == nil then
    m.fresh_run = ctx.db:scalar("SELECT NOT EXISTS (SELECT 1 FROM " .. schema.qualify(m.target) .. ")") == true
  end
  return m.fresh_run
end

--- One piped batch over the stage the fetch filled. Returns the target rows written.
function pipe.batch(m, ctx, rows)
  local rs = ctx._run:set(m.name)
  local stage = stage_name(m)
  local keys = {}
  for i, r in ipairs(m.rules) do
    if r.target_side then
      for _, row in ipairs(apply_rule(m, ctx, stage, i, r)) do
        if row.__mig_no_row then keys[#keys + 1] = row.__mig_key end
      end
    end
  end
  fill_row_data(m, ctx, rs, stage, keys)
  local from, ref = references(m, stage)
  -- the migrating rows with their references resolved once (k), for the fixups and the insert
  local kept, exprs, conflict = {}, {}, {}
  for i in ipairs(m.refs) do kept[#kept + 1] = ref(i) .. " AS __mig_ref" .. i end
  for _, c in ipairs(m.columns) do exprs[c] = "k." .. qi(c) end
  for i, k in ipairs(m.target_keys) do conflict[i] = qi(k) end
  local function kref(i) return "k.__mig_ref" .. i end
  local codes = {}
  for i, r in ipairs(m.rules) do codes[i] = lit(r.code) end
  return ctx:write_batch({set = m.name,
    with = "k AS MATERIALIZED (SELECT st.*" .. (#kept > 0 and (", " .. table.concat(kept, ", ")) or "") .. " FROM " .. from
      .. " WHERE st.__mig_rule IS NULL)",
    rejects = #codes > 0 and ("SELECT st.__mig_key AS source_key, (ARRAY[" .. table.concat(codes, ", ")
      .. "])[st.__mig_rule] AS reason, st.__mig_detail AS detail, st.__mig_row AS row_data FROM " .. qi(stage)
      .. " st WHERE st.__mig_rule IS NOT NULL") or nil,
    fixups = msql.fixups_select(m, exprs, "k.__mig_key", "k", kref, nil),
    write = "INSERT INTO " .. schema.qualify(m.target) .. " (" .. msql.column_list(m) .. ") SELECT "
      .. table.concat(msql.values(m, exprs, kref), ", ") .. " FROM k ORDER BY k.__mig_ord"
      .. (fresh(m, ctx) and "" or (" ON CONFLICT (" .. table.concat(conflict, ", ") .. ") DO NOTHING"))})
end

--- After the phase's last batch: the deferred references (restore_deferred), and the stage goes
--- (every commit of the session empties each ON COMMIT DELETE ROWS table it holds, a file
--- truncation each: one stage per phase would cost every later batch one per earlier phase).
function pipe.after(m, ctx)
  local n = 0
  for _, r in ipairs(m.refs) do
    if r.deferred then n = pipe.restore_deferred(m, ctx) break end
  end
  ctx.db:exec("DROP TABLE IF EXISTS " .. qi(stage_name(m)))
  return n
end

--- After the phase's last batch: every deferred reference a batch nulled whose row has been
--- migrated since (and is not the row itself, with not_self) is set, and its fixup removed. The
--- fixup's key is the source key, which must be the target key's text (ids preserved). Returns
--- the target rows updated.
function pipe.restore_deferred(m, ctx)
  local types = {}
  for _, c in ipairs(schema.columns(ctx.db, m.target) or {}) do types[c.name] = c.type end
  local tk = m.target_keys[1]
  local n = 0
  for _, r in ipairs(m.refs) do
    if r.deferred then
      local old = "CAST(f.old_value AS " .. types[r.column] .. ")"
      n = n + ctx.db:exec("WITH f AS (SELECT source_key, old_value FROM mig_meta.fixups WHERE migration = $1"
        .. " AND source_table = $2 AND field = $3 AND rule = $4), up AS (UPDATE " .. schema.qualify(m.target) .. " t SET "
        .. qi(r.column) .. " = " .. old .. " FROM f WHERE t." .. qi(tk) .. " = CAST(f.source_key AS " .. types[tk] .. ")"
        .. " AND EXISTS (SELECT 1 FROM " .. schema.qualify(r.table) .. " p WHERE p." .. qi(r.key) .. " = " .. old .. ")"
        .. (r.not_self and (" AND " .. old .. " <> t." .. qi(r.key)) or "")
        .. " RETURNING t." .. qi(tk) .. "::text AS k) DELETE FROM mig_meta.fixups x USING up WHERE x.migration = $1"
        .. " AND x.source_table = $2 AND x.field = $3 AND x.source_key = up.k", ctx.name, m.name, r.column, r.rule)
    end
  end
  return n
end

return pipe
