-- mighost.mig_mapping_sql: the SQL of a declared phase. A set-based batch is ONE statement over
-- the window's key range, so the batch's source rows are read once, by an index range scan:
-- data-modifying CTEs over a materialized copy of the rows (the rejects, the fixups of dangling
-- references and the target rows), or, while few rows are rejects or fixups, one INSERT that
-- logs those rows as it meets them (mig_capture).
local db = require "mighost.db"
local schema = require "mighost.schema"
local mapping = require "mighost.mig_mapping"
local log = require "mighost.log"

local sql = {}
local qi = db.quote_ident

local function set_of(ctx, m)
  return ctx._run:set(m.name) or error("phase " .. m.name .. ": its source set is not resolved", 0)
end

--- True when the referenced table holds many times the rows of this batch (hashing it costs about
--- a quarter of a per-row index probe per row): its key's index is then probed per row (a LATERAL
--- subquery kept apart by OFFSET 0) instead of hashing the whole table for every batch, which on
--- a 50k-row table cost more than a 5000-row batch's own insert. Batches that grew (batch_time)
--- switch to the hash once they are large enough.
local function probe_per_row(ctx, r)
  r.rows = r.rows or tonumber(ctx.db:scalar("SELECT greatest(reltuples, 0)::int8 FROM pg_class WHERE oid = to_regclass($1)",
    schema.qualify(r.table))) or 0
  return r.rows > 4 * ((ctx.window and ctx.window.rows) or ctx.options.batch_size or 0)
end

--- The join that finds the key of reference rule r equal to `value` (alias a).
local function join_ref(ctx, r, a, value)
  if probe_per_row(ctx, r) then
    return " LEFT JOIN LATERAL (SELECT " .. a .. "." .. qi(r.key) .. " FROM " .. schema.qualify(r.table) .. " " .. a
      .. " WHERE " .. a .. "." .. qi(r.key) .. " = " .. value .. " OFFSET 0) " .. a .. " ON true"
  end
  return " LEFT JOIN " .. schema.qualify(r.table) .. " " .. a .. " ON " .. a .. "." .. qi(r.key) .. " = " .. value
end

--- The join of m's i-th reference rule (alias r<i>), e.g. over a stage table's column.
function sql.ref_join(m, ctx, i, value) return join_ref(ctx, m.refs[i], "r" .. i, value) end

local function targets(m)
  local out = {m}
  for _, a in ipairs(m.also or {}) do out[#out + 1] = a end
  return out
end

--- The reference joins of a batch: one per distinct (table, key, value) among the reference rules
--- of every target (the same user referenced by two targets is looked up once). Returns the
--- joins, the columns they add to b (__mig_ref<n>), refs[target][i], the kept value of the
--- target's i-th reference rule read from b, and direct[target][i], the same read from the join.
local function ref_joins(m, ctx)
  local joins, cols, by_sig, refs, direct = {}, {}, {}, {}, {}
  for _, t in ipairs(targets(m)) do
    local e = t:exprs(ctx)
    refs[t], direct[t] = {}, {}
    for i, r in ipairs(t.refs) do
      local sig = r.table .. "\0" .. r.key .. "\0" .. e[r.column]
      local n = by_sig[sig]
      if not n then
        n = #joins + 1
        by_sig[sig] = n
        joins[n] = join_ref(ctx, r, "r" .. n, "(" .. e[r.column] .. ")")
        cols[n] = "r" .. n .. "." .. qi(r.key) .. " AS __mig_ref" .. n
      end
      refs[t][i], direct[t][i] = "s.__mig_ref" .. n, "r" .. n .. "." .. qi(r.key)
    end
  end
  return joins, cols, refs, direct
end

--- The batch's rows, read once (alias s): the source columns, the index of the reject rule that
--- applies (__mig_rule, NULL when the row migrates), the row as jsonb for a reject, and per
--- distinct reference the referenced key that exists (__mig_ref<n>); the derived values joined as d.
local function batch_rows(m, source, joins, ref_cols, derived)
  local cols = {"s.*", "x.__mig_rule", "CASE WHEN x.__mig_rule IS NOT NULL THEN to_jsonb(s) END AS __mig_row"}
  for _, c in ipairs(ref_cols) do cols[#cols + 1] = c end
  return "b AS MATERIALIZED (SELECT " .. table.concat(cols, ", ") .. " FROM (" .. source .. ") s"
    .. m:derived_join(derived) .. " CROSS JOIN LATERAL (SELECT " .. mapping.rule_case(m) .. " AS __mig_rule"
    .. (mapping.fenced(m) and " OFFSET 0" or "") .. ") x" .. table.concat(joins) .. ")"
end

local function rejects_select(m, rs, from)
  return "SELECT " .. rs.keytext_sql .. " AS source_key, " .. mapping.reason_of(m, "s.__mig_rule") .. " AS reason, "
    .. mapping.detail_case(m, "s.__mig_rule") .. " AS detail, s.__mig_row AS row_data FROM " .. from
    .. " WHERE s.__mig_rule IS NOT NULL"
end

--- The phase's derived values (mig_mapping_decl.derived) as a temporary table of this session,
--- computed once per run (a retried first batch computes them again); nil without any.
function sql.derived_name(m) return "pg_temp." .. qi(("mig_derived_" .. m.name):sub(1, 63)) end

function sql.ensure_derived(m, ctx)
  if not m.derived then return nil end
  local name = ("mig_derived_" .. m.name):sub(1, 63)
  local rel = sql.derived_name(m)
  if ctx.db:scalar("SELECT to_regclass($1) IS NULL", rel) then
    local keys = {}
    for i, k in ipairs(m.derived.keys) do keys[i] = qi(k) end
    ctx.db:exec("CREATE TEMPORARY TABLE " .. qi(name) .. " AS " .. m:derived_sql(ctx))
    ctx.db:exec("ALTER TABLE " .. rel .. " ADD PRIMARY KEY (" .. table.concat(keys, ", ") .. ")")
    ctx.db:exec("ANALYZE " .. rel)
  end
  return rel
end

--- The fixups of the batch's migrating rows: per reference rule, a value that names no row of the
--- referenced table is nulled and logged (rule code, old value). `rows` is the alias's source
--- (b, or a stage table), `ref(i)` the expression of the kept reference.
--- A reference with a `fallback` gets that value instead of NULL (new_value); a `required` one
--- gets it for NULL too (old_value NULL).
function sql.fixups_select(m, exprs, keytext, from, ref, migrating)
  if #m.refs == 0 then return nil end
  local values, any = {}, {}
  for i, r in ipairs(m.refs) do
    local e = exprs[r.column]
    values[i] = "(" .. db.quote_literal(r.column) .. ", " .. db.quote_literal(r.rule) .. ", (" .. e .. ")::text, "
      .. ref(i) .. "::text, " .. (r.fallback and ("(" .. r.fallback .. ")::text") or "NULL::text") .. ", "
      .. tostring(r.required) .. ")"
    any[i] = r.required and ("(" .. ref(i) .. " IS NULL)") or ("((" .. e .. ") IS NOT NULL AND " .. ref(i) .. " IS NULL)")
  end
  return "SELECT " .. keytext .. " AS source_key, f.field, f.rule, f.old_value, f.new_value FROM " .. from
    .. " CROSS JOIN LATERAL (VALUES " .. table.concat(values, ", ") .. ") f(field, rule, old_value, kept, new_value,"
    .. " required) WHERE " .. (migrating and (migrating .. " AND ") or "") .. "(" .. table.concat(any, " OR ") .. ")"
    .. " AND (f.old_value IS NOT NULL OR f.required) AND f.kept IS NULL"
end

--- The value a reference column gets: the referenced key when that row exists, else the fallback
--- (a NULL reference stays NULL unless the reference is required), else NULL.
function sql.ref_value(r, e, kept)
  if not r.fallback then return kept end
  local v = "COALESCE(" .. kept .. ", (" .. r.fallback .. "))"
  if r.required then return v end
  return "CASE WHEN (" .. e .. ") IS NULL THEN NULL ELSE " .. v .. " END"
end

--- The mapped value of each target column in `m.columns` order; references by their kept key.
function sql.values(m, exprs, ref)
  local vals, refs = {}, {}
  for i, r in ipairs(m.refs) do refs[r.column] = sql.ref_value(r, exprs[r.column], ref(i)) end
  for i, col in ipairs(m.columns) do vals[i] = refs[col] or ("(" .. exprs[col] .. ")") end
  return vals
end

function sql.column_list(m)
  local cols = {}
  for i, c in ipairs(m.columns) do cols[i] = qi(c) end
  return table.concat(cols, ", ")
end

--- The write of target m's rows from `from` (alias s) that `where` keeps (default: those no reject
--- rule holds for); ref(i) = the kept value of its i-th reference rule.
local function write_sql(m, ctx, rs, fresh, ref, from, where)
  where = where or "s.__mig_rule IS NULL"
  local e = m:exprs(ctx)
  local vals = sql.values(m, e, ref)
  if m.update then
    local sets, on, keys = {}, {}, {}
    for i, col in ipairs(m.columns) do sets[i] = qi(col) .. " = u." .. qi(col) end
    for i, k in ipairs(m.keys) do
      keys[i] = "s." .. qi(k) .. " AS __mig_k" .. i
      on[i] = "t." .. qi(k) .. " = u.__mig_k" .. i
    end
    local named = {}
    for i, col in ipairs(m.columns) do named[i] = vals[i] .. " AS " .. qi(col) end
    return "UPDATE " .. schema.qualify(m.target) .. " t SET " .. table.concat(sets, ", ") .. " FROM (SELECT "
      .. table.concat(keys, ", ") .. ", " .. table.concat(named, ", ") .. " FROM " .. from .. " WHERE s.__mig_rule IS NULL) u WHERE "
      .. table.concat(on, " AND ")
  end
  local conflict = {}
  for i, k in ipairs(m:conflict_keys(ctx)) do conflict[i] = qi(k) end
  -- A first run's windows cannot meet an existing target row: no ON CONFLICT (its speculative
  -- insertion costs per row); a duplicate would fail the batch, never be lost. A queue may hold
  -- the row already (it is not part of "migrated").
  return "INSERT INTO " .. schema.qualify(m.target) .. " (" .. sql.column_list(m) .. ") SELECT "
    .. table.concat(vals, ", ") .. " FROM " .. from .. " WHERE " .. where
    .. (m:numbers_rows(ctx) and (" ORDER BY " .. rs.order_sql) or "")
    .. ((fresh and not m.queue) and "" or (" ON CONFLICT (" .. table.concat(conflict, ", ") .. ") DO NOTHING"))
end

--- The fixups of every target's reference rules, each column once (fixups are keyed by field).
local function all_fixups(m, ctx, rs, refs, from)
  local merged, exprs, kept = {refs = {}}, {}, {}
  for _, t in ipairs(targets(m)) do
    local e = t:exprs(ctx)
    for i, r in ipairs(t.refs) do
      if not exprs[r.column] then
        merged.refs[#merged.refs + 1] = r
        exprs[r.column], kept[#merged.refs] = e[r.column], refs[t][i]
      end
    end
  end
  return sql.fixups_select(merged, exprs, rs.keytext_sql, from, function(i) return kept[i] end, "s.__mig_rule IS NULL")
end

--- The key texts of the batch's migrated and rejected rows (with the reasons), for `after`.
local function resolved_keys(m, rs)
  local function agg(what, cond)
    return "(SELECT array_agg(" .. what .. " ORDER BY " .. rs.order_sql .. ") FROM b s WHERE s.__mig_rule IS " .. cond .. ")"
  end
  return {agg(rs.keytext_sql, "NULL") .. " AS __mig_migrated", agg(rs.keytext_sql, "NOT NULL") .. " AS __mig_rejected",
          agg(mapping.reason_of(m, "s.__mig_rule"), "NOT NULL") .. " AS __mig_reasons"}
end

local function array_of(v) return type(v) == "table" and v or {} end

--- The audit rows of the rows the batch wrote (__w, alias t), each joined to its source row s
--- (the window's source read again, so that s is exactly the declared source row).
local function audit_sql(m, ctx, source)
  local a, cols, vals = m.audit, {}, {}
  for i, c in ipairs(a.columns) do cols[i], vals[i] = qi(c), "(" .. a.row[c] .. ")" end
  local on
  if m.update then
    local parts = {}
    for i, k in ipairs(m.keys) do parts[i] = "t." .. qi(k) .. " = s." .. qi(k) end
    on = table.concat(parts, " AND ")
  else
    on = m:match(ctx, "t")
  end
  return "INSERT INTO " .. schema.qualify(a.table) .. " (" .. table.concat(cols, ", ") .. ") SELECT "
    .. table.concat(vals, ", ") .. " FROM __w t JOIN (" .. source .. ") s ON " .. on
end

-- Per declared phase (weak: a phase's declaration lives as long as its run), the share of the
-- last batch's rows that were rejects or fixups: the next batch is captured (mig_capture) while
-- it stays at or under CAPTURED_SHARE. A row logged by a call costs about as much as one logged in
-- bulk from the materialized copy, and the copy costs every row of the window: the captured form
-- stays the faster one up to about a quarter of rejects (tests/bench/README.md).
local last_share, form = setmetatable({}, {__mode = "k"}), setmetatable({}, {__mode = "k"})
local CAPTURED_SHARE = 0.10

--- True when the batch can be one INSERT from the source: a single insert target whose batch
--- has nothing else to read its rows (no `also`, queue, audit, `after` or derived values), and
--- the phase's last batch had few rejects and fixups (before its first: only a phase without
--- reject or reference rules, which can have none).
local function captures(m, ctx)
  if m.update or m.queue or m.audit or m.after or m.derived or #(m.also or {}) > 0 then return false end
  local share = last_share[m] or ((#m.rules == 0 and #m.refs == 0) and 0 or nil)
  if not share or share > CAPTURED_SHARE or m:numbers_rows(ctx) then return false end
  return require("mighost.mig_capture").ready(ctx.db)
end

--- The captured batch: INSERT … SELECT from the window's rows, whose WHERE logs each reject (and
--- leaves it out) and each dangling reference (and keeps the row) as it meets them, in the order
--- of the materialized form: a rejected row gets no fixup.
local function captured_sql(m, ctx, rs, w, joins, direct)
  local capture = require "mighost.mig_capture"
  local e, key = m:exprs(ctx), rs.keytext_sql
  local fix = {}
  for i, r in ipairs(m.refs) do
    local old = "(" .. e[r.column] .. ")::text"
    fix[i] = "(CASE WHEN " .. direct[i] .. " IS NULL AND (" .. old .. " IS NOT NULL OR " .. tostring(r.required)
      .. ") THEN " .. capture.fixup_call(ctx, rs.name, key, r.column, r.rule, old,
        r.fallback and ("(" .. r.fallback .. ")::text") or "NULL::text") .. " ELSE true END)"
  end
  local keep = #fix > 0 and table.concat(fix, " AND ") or "true"
  if #m.rules > 0 then
    keep = "CASE WHEN x.__mig_rule IS NOT NULL THEN " .. capture.reject_call(ctx, rs.name, key,
      mapping.reason_of(m, "x.__mig_rule"), mapping.detail_case(m, "x.__mig_rule"), "to_jsonb(s)") .. " ELSE " .. keep .. " END"
  end
  local from = "(" .. w.source .. ") s CROSS JOIN LATERAL (SELECT " .. mapping.rule_case(m) .. " AS __mig_rule"
    .. (mapping.fenced(m) and " OFFSET 0" or "") .. ") x" .. table.concat(joins)
  return write_sql(m, ctx, rs, w.all_pending, function(i) return direct[i] end, from, keep)
end

--- One set-based batch over ctx.window (the window's pending source rows): the target rows and
--- those of `also` in one statement (with the audit rows of what it wrote), then `after` (the rows
--- that follow them). Returns rows written.
function sql.batch(m, ctx)
  local rs, w = set_of(ctx, m), ctx.window
  local joins, ref_cols, refs, direct = ref_joins(m, ctx)
  local captured = captures(m, ctx)
  if captured ~= (form[m] == "captured") then
    log.debug("phase " .. m.name .. (captured and ": batches insert straight from the source, logging rejects and fixups per row"
      or ": batches read their rows once into a materialized copy") .. string.format(" (last batch: %.2f%% rejects and fixups)",
      100 * (last_share[m] or 0)))
    form[m] = captured and "captured" or "materialized"
  end
  if captured then
    local written, rejects, fixups = ctx:_write_captured(m.name, captured_sql(m, ctx, rs, w, joins, direct[m]), unpack(w.params))
    last_share[m] = (rejects + fixups) / math.max(1, w.rows or (written + rejects))
    return written
  end
  local derived = sql.ensure_derived(m, ctx)
  local from = "b s" .. m:derived_join(derived)
  local writes, side = {}, {}
  for _, t in ipairs(targets(m)) do
    local list = t.queue and side or writes
    list[#list + 1] = write_sql(t, ctx, rs, w.all_pending, function(i) return refs[t][i] end, from)
  end
  local audit = m.audit and #writes == 1
  local written, r = ctx:write_batch({with = batch_rows(m, w.source, joins, ref_cols, derived),
                                      rejects = #m.rules > 0 and rejects_select(m, rs, from) or nil,
                                      fixups = all_fixups(m, ctx, rs, refs, from),
                                      write = audit and writes[1] or writes, side = side,
                                      returning = audit and (m.update and "t.*" or "*") or nil,
                                      after = audit and audit_sql(m, ctx, w.source) or nil,
                                      select = m.after and resolved_keys(m, rs) or nil}, unpack(w.params))
  last_share[m] = (tonumber(r.__rejects) + tonumber(r.__fixups)) / math.max(1, w.rows or 0)
  if m.after then
    m.after(ctx, {migrated = array_of(r.__mig_migrated), rejected = array_of(r.__mig_rejected),
                  reasons = array_of(r.__mig_reasons)})
  end
  return written
end

--- The source of a streamed phase: the source rows plus, computed by the source's PostgreSQL,
--- the SQL reject rule that applies, its detail, the row as jsonb text for a reject (the same
--- to_jsonb as a set-based batch) and each SQL-mapped value (__mig_v<i>, in m.columns order).
function sql.stream_source(m, ctx)
  local e = m:exprs(ctx)
  local cols = {"s.*", "x.__mig_rule", mapping.detail_case(m, "x.__mig_rule") .. " AS __mig_detail"}
  local any_lua = false
  for _, r in ipairs(m.rules) do any_lua = any_lua or r.lua end
  cols[#cols + 1] = (any_lua and "to_jsonb(s)::text" or "CASE WHEN x.__mig_rule IS NOT NULL THEN to_jsonb(s)::text END")
    .. " AS __mig_row"
  for i, col in ipairs(m.columns) do
    if e[col] then cols[#cols + 1] = "(" .. e[col] .. ") AS __mig_v" .. i end
  end
  return "SELECT " .. table.concat(cols, ", ") .. " FROM (" .. m.source_sql .. ") s CROSS JOIN LATERAL (SELECT "
    .. mapping.rule_case(m) .. " AS __mig_rule" .. (mapping.fenced(m) and " OFFSET 0" or "") .. ") x"
end

return sql
