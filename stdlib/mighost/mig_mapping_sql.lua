-- mighost.mig_mapping_sql: the SQL of a declared phase. A set-based batch is ONE statement over
-- the window's key range (data-modifying CTEs: the rejects, the fixups of dangling references and
-- the target rows), so the batch's source rows are read once, by an index range scan.
local db = require "mighost.db"
local schema = require "mighost.schema"
local mapping = require "mighost.mig_mapping"

local sql = {}
local qi = db.quote_ident

local function set_of(ctx, m)
  return ctx._run.sets[m.name] or error("phase " .. m.name .. ": its source set is not resolved", 0)
end

--- The batch's rows, read once (alias s): the source columns, the index of the reject rule that
--- applies (__mig_rule, NULL when the row migrates), the row as jsonb for a reject, and per
--- reference rule the referenced key that exists (__mig_ref<i>).
local function batch_rows(m, ctx, source, derived)
  local e = m:exprs(ctx)
  local cols, joins = {"s.*", "x.__mig_rule", "CASE WHEN x.__mig_rule IS NOT NULL THEN to_jsonb(s) END AS __mig_row"}, {}
  for i, r in ipairs(m.refs) do
    cols[#cols + 1] = "r" .. i .. "." .. qi(r.key) .. " AS __mig_ref" .. i
    joins[#joins + 1] = " LEFT JOIN " .. schema.qualify(r.table) .. " r" .. i .. " ON r" .. i .. "." .. qi(r.key)
      .. " = (" .. e[r.column] .. ")"
  end
  return "b AS MATERIALIZED (SELECT " .. table.concat(cols, ", ") .. " FROM (" .. source .. ") s"
    .. m:derived_join(derived) .. " CROSS JOIN LATERAL (SELECT " .. mapping.rule_case(m) .. " AS __mig_rule"
    .. (mapping.fenced(m) and " OFFSET 0" or "") .. ") x" .. table.concat(joins) .. ")"
end

local function rejects_select(m, rs, from)
  return "SELECT " .. rs.keytext_sql .. " AS source_key, " .. mapping.reason_of(m, "s.__mig_rule") .. " AS reason, "
    .. mapping.detail_case(m, "s.__mig_rule") .. " AS detail, s.__mig_row AS row_data FROM " .. from
    .. " WHERE s.__mig_rule IS NOT NULL"
end

--- The phase's derived values (mapping.derived_decl) as a temporary table of this session,
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

local function write_sql(m, ctx, rs, fresh, from)
  local e = m:exprs(ctx)
  local vals = sql.values(m, e, function(i) return "s.__mig_ref" .. i end)
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
  for i, k in ipairs(m.target_keys) do conflict[i] = qi(k) end
  -- A first run's windows cannot meet an existing target row: no ON CONFLICT (its speculative
  -- insertion costs per row); a duplicate would fail the batch, never be lost.
  return "INSERT INTO " .. schema.qualify(m.target) .. " (" .. sql.column_list(m) .. ") SELECT "
    .. table.concat(vals, ", ") .. " FROM " .. from .. " WHERE s.__mig_rule IS NULL"
    .. (m:numbers_rows(ctx) and (" ORDER BY " .. rs.order_sql) or "")
    .. (fresh and "" or (" ON CONFLICT (" .. table.concat(conflict, ", ") .. ") DO NOTHING"))
end

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

--- One set-based batch over ctx.window (the window's pending source rows). Returns rows written.
function sql.batch(m, ctx)
  local rs, w = set_of(ctx, m), ctx.window
  local e = m:exprs(ctx)
  local derived = sql.ensure_derived(m, ctx)
  local from = "b s" .. m:derived_join(derived)
  local fix = sql.fixups_select(m, e, rs.keytext_sql, from, function(i) return "s.__mig_ref" .. i end,
    "s.__mig_rule IS NULL")
  return ctx:write_batch({with = batch_rows(m, ctx, w.source, derived),
                          rejects = #m.rules > 0 and rejects_select(m, rs, from) or nil,
                          fixups = fix, write = write_sql(m, ctx, rs, w.all_pending, from),
                          returning = m.audit and (m.update and "t.*" or "*") or nil,
                          after = m.audit and audit_sql(m, ctx, w.source) or nil}, unpack(w.params))
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
