-- mighost.mig_stream: a declared phase run streamed — the batch's source rows come through Lua
-- (from the source's session, which may be another database), Lua-function columns and rules are
-- applied there, and the rows go by COPY into a stage table in the target's session. From the
-- stage, the same SQL as a set-based batch keeps or nulls the references (logging the fixups) and
-- inserts the target rows, all in the batch's transaction.
local db = require "mighost.db"
local schema = require "mighost.schema"
local context = require "mighost.mig_context"
local msql = require "mighost.mig_mapping_sql"

local stream = {}
local qi = db.quote_ident

local function stage_names(m)
  local base = ("mig_stage_" .. m.name):gsub("[^%w_]", "_"):sub(1, 50)
  return base, base .. "_rejects"
end

--- The temporary stage tables of this session: the target's mapped columns plus the source key
--- text and the row's position; the rejects as mig_meta.rejects takes them.
local function ensure_stage(m, ctx)
  local stage, rej = stage_names(m)
  local cols = {}
  for i, c in ipairs(m.columns) do cols[i] = "t." .. qi(c) end
  ctx.db:exec("CREATE TEMP TABLE IF NOT EXISTS " .. qi(stage) .. " ON COMMIT DELETE ROWS AS SELECT "
    .. table.concat(cols, ", ") .. ", NULL::text AS __mig_key, 0::bigint AS __mig_ord FROM "
    .. schema.qualify(m.target) .. " t WITH NO DATA")
  ctx.db:exec("CREATE TEMP TABLE IF NOT EXISTS " .. qi(rej) .. " (source_key text, reason text, detail text,"
    .. " row_data jsonb, ord bigint) ON COMMIT DELETE ROWS")
  -- a dry run's batches are savepoints of one transaction: nothing is deleted at their end
  ctx.db:exec("DELETE FROM " .. qi(stage))
  ctx.db:exec("DELETE FROM " .. qi(rej))
  return stage, rej
end

--- The first rule that rejects the row: a Lua rule before the SQL rule PostgreSQL found, or that
--- one. Returns the rule index and the detail text (or nil when the row migrates).
local function rule_of(m, row, ctx)
  local sql_rule = row.__mig_rule
  if sql_rule == db.NULL then sql_rule = nil end
  for i = 1, (sql_rule or #m.rules + 1) - 1 do
    local r = m.rules[i]
    if r.lua then
      local hit, detail = r.cond(row, ctx)
      if hit then
        if detail == nil and type(r.detail) == "function" then detail = r.detail(row, ctx) end
        return i, detail ~= nil and context.value_text(detail) or nil
      end
    end
  end
  if sql_rule then
    local d = row.__mig_detail
    return sql_rule, (d ~= db.NULL and d) or nil
  end
  return nil
end

local function row_values(m, row, ctx, key, ord)
  local out = {}
  for i, col in ipairs(m.columns) do
    local f = m.lua_map[col]
    local v
    if f then v = f(row, ctx) else v = row["__mig_v" .. i] end
    if v == nil then v = db.NULL end
    out[i] = v
  end
  out[#out + 1] = key
  out[#out + 1] = ord
  return out
end

--- One streamed batch: rows are the window's pending source rows. Returns target rows written.
function stream.batch(m, ctx, rows)
  local rs = ctx._run:set(m.name)
  local stage, rej = ensure_stage(m, ctx)
  local cols = {}
  for i, c in ipairs(m.columns) do cols[i] = c end
  cols[#cols + 1], cols[#cols + 2] = "__mig_key", "__mig_ord"
  -- one COPY at a time on a session: the rows first, then the (few) rejects
  local w, rejected, migrated = ctx.db:copy_in(stage, cols), {}, {}
  for ord, row in ipairs(rows) do
    local key = context.key_text(rs, row, "streamed batch")
    local rule, detail = rule_of(m, row, ctx)
    if rule then rejected[#rejected + 1] = {key, m.rules[rule].code, detail or db.NULL, row.__mig_row, ord}
    else
      w:write(row_values(m, row, ctx, key, ord))
      migrated[#migrated + 1] = key
    end
  end
  w:close()
  if #rejected > 0 then
    local rw = ctx.db:copy_in(rej, {"source_key", "reason", "detail", "row_data", "ord"})
    for _, r in ipairs(rejected) do rw:write(r) end
    rw:close()
    ctx:reject_rows(m.name, "SELECT source_key, reason, detail, row_data FROM " .. qi(rej) .. " ORDER BY ord")
  end
  local exprs, joins = {}, {}
  for _, c in ipairs(m.columns) do exprs[c] = "st." .. qi(c) end
  for i, r in ipairs(m.refs) do joins[#joins + 1] = msql.ref_join(m, ctx, i, "st." .. qi(r.column)) end
  local from = qi(stage) .. " st" .. table.concat(joins)
  local function ref(i) return "r" .. i .. "." .. qi(m.refs[i].key) end
  local fix = msql.fixups_select(m, exprs, "st.__mig_key", from, ref, nil)
  if fix then ctx:fixup_rows(m.name, fix) end
  local conflict = {}
  for i, k in ipairs(m:conflict_keys(ctx)) do conflict[i] = qi(k) end
  local written = ctx.db:exec("INSERT INTO " .. schema.qualify(m.target) .. " (" .. msql.column_list(m) .. ") SELECT "
    .. table.concat(msql.values(m, exprs, ref), ", ") .. " FROM " .. from .. " ORDER BY st.__mig_ord"
    .. " ON CONFLICT (" .. table.concat(conflict, ", ") .. ") DO NOTHING")
  if m.after then
    local keys, reasons = {}, {}
    for i, r in ipairs(rejected) do keys[i], reasons[i] = r[1], r[2] end
    m.after(ctx, {migrated = migrated, rejected = keys, reasons = reasons})
  end
  return written
end

return stream
