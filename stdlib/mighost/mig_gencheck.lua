-- mighost.mig_gencheck: the checks that follow from a declared phase. Each compares the source
-- with the target through full keys (the target key the mapping fills, mig_meta's primary keys),
-- so none depends on the planner guessing well:
--   <set>_accounted       every source row migrated or rejected (needs a complete run)
--   no_double_resolution  no source row both migrated and rejected
--   <set>_values          every migrated row's columns equal the mapping (cast to the column types)
--   rejects_valid         every reject's reason is the first rule that holds for its row
--   fixups_logged         every reference the migration nulled has its fixup row
-- plus `<also table>_values` per target of `also` (queues aside), and `<set>_accounted` per set of
-- `sets` that says when its rows are migrated.
-- A script renames one with `check_names = {values = "batch_values", …}`.
local db = require "mighost.db"
local schema = require "mighost.schema"
local mapping = require "mighost.mig_mapping"

local gen = {}
local qi, lit = db.quote_ident, db.quote_literal

local function keytext(m)
  local parts = {}
  for i, k in ipairs(m.keys) do parts[i] = "s." .. qi(k) .. "::text" end
  if #parts == 1 then return parts[1] end
  return "concat_ws('|', " .. table.concat(parts, ", ") .. ")"
end

local function rejected(m)
  return "EXISTS (SELECT 1 FROM mig_meta.rejects r WHERE r.migration = " .. lit(m.def.name)
    .. " AND r.source_table = " .. lit(m.name) .. " AND r.source_key = " .. keytext(m) .. ")"
end

local function resolved_join(m, ctx)
  if m.update then return " WHERE (" .. m:migrated(ctx) .. ")" end
  local j = " JOIN " .. schema.qualify(m.target) .. " t ON " .. m:match(ctx, "t")
  -- a target of `also` counts only for migrated rows: the main target's row is there too (a row of
  -- the same key may belong to the application, e.g. a native operation of a native part)
  if m.parent then j = " JOIN " .. schema.qualify(m.parent.target) .. " tp ON " .. m.parent:match(ctx, "tp") .. j end
  return j
end

local function source(m) return "(" .. m.source_sql .. ") s" end

local function accounted(m)
  return function(ctx)
    return "SELECT count(*) FROM " .. source(m) .. " WHERE NOT (" .. m:migrated(ctx) .. ") AND NOT " .. rejected(m)
  end
end

local function double_resolution(m)
  return function(ctx)
    local j = resolved_join(m, ctx)
    return "SELECT count(*) FROM " .. source(m) .. j .. (m.update and " AND " or " WHERE ") .. rejected(m)
  end
end

local function values(m)
  return function(ctx)
    local e, types = m:exprs(ctx), {}
    for _, c in ipairs(schema.columns(ctx.db, m.target) or {}) do types[c.name] = c.type end
    local refs, joins = {}, {}
    for i, r in ipairs(m.refs) do
      refs[r.column] = "r" .. i .. "." .. qi(r.key)
      joins[#joins + 1] = " LEFT JOIN " .. schema.qualify(r.table) .. " r" .. i .. " ON r" .. i .. "." .. qi(r.key)
        .. " = (" .. e[r.column] .. ")"
    end
    local left, right = {}, {}
    for _, col in ipairs(m.columns) do
      if e[col] then
        left[#left + 1] = "t." .. qi(col)
        local v = refs[col] or ("(" .. e[col] .. ")")
        right[#right + 1] = types[col] and ("CAST(" .. v .. " AS " .. types[col] .. ")") or v
      end
    end
    return "SELECT count(*) FROM " .. source(m) .. resolved_join(m, ctx) .. table.concat(joins)
      .. " WHERE ROW(" .. table.concat(left, ", ") .. ") IS DISTINCT FROM ROW(" .. table.concat(right, ", ") .. ")"
  end
end

local function rejects_valid(m)
  local all_sql = true
  local codes = {}
  for i, r in ipairs(m.rules) do
    all_sql = all_sql and not r.lua
    codes[i] = lit(r.code)
  end
  local head = "SELECT count(*) FROM mig_meta.rejects r JOIN " .. source(m) .. " ON " .. keytext(m)
    .. " = r.source_key WHERE r.migration = " .. lit(m.def.name) .. " AND r.source_table = " .. lit(m.name)
  if not all_sql then return head .. " AND r.reason NOT IN (" .. table.concat(codes, ", ") .. ")" end
  return head .. " AND r.reason IS DISTINCT FROM " .. mapping.reason_of(m, "(" .. mapping.rule_case(m) .. ")")
end

local function fixups_logged(m)
  return function(ctx)
    local joins, any, fixup_of, n = {}, {}, {}, 0
    for ti, t in ipairs(m:resolving()) do
      local alias = ti == 1 and "t" or ("t" .. ti)
      if ti > 1 and #t.refs > 0 then
        joins[#joins + 1] = " JOIN " .. schema.qualify(t.target) .. " " .. alias .. " ON " .. t:match(ctx, alias)
      end
      local e = t:exprs(ctx)
      for _, r in ipairs(t.refs) do
        local f = fixup_of[r.column]
        if not f then   -- one hash join per field on mig_meta.fixups' whole key (small), not a probe per row
          n = n + 1
          f = "f" .. n
          fixup_of[r.column] = f
          joins[#joins + 1] = " LEFT JOIN mig_meta.fixups " .. f .. " ON " .. f .. ".migration = " .. lit(m.def.name)
            .. " AND " .. f .. ".source_table = " .. lit(m.name) .. " AND " .. f .. ".source_key = " .. keytext(m)
            .. " AND " .. f .. ".field = " .. lit(r.column)
        end
        any[#any + 1] = "((" .. e[r.column] .. ") IS NOT NULL AND " .. alias .. "." .. qi(r.column) .. " IS NULL AND "
          .. f .. ".field IS NULL)"
      end
    end
    return "SELECT count(*) FROM " .. source(m) .. resolved_join(m, ctx) .. table.concat(joins)
      .. " WHERE " .. table.concat(any, " OR ")
  end
end

local function has_refs(m)
  for _, t in ipairs(m:resolving()) do
    if #t.refs > 0 then return true end
  end
  return false
end

--- `<set>_accounted` of a set declared in `sets` (resolved inside another phase's batch): every
--- source row migrated or rejected.
local function set_accounted(name)
  return function(ctx)
    local rs = ctx._run.sets[name]
    return "SELECT count(*) FROM (" .. rs.source_sql .. ") s WHERE NOT (" .. rs.migrated_sql .. ") AND NOT " .. rs.rejected_sql
  end
end

--- The generated checks of the declared phases `list` (mig_mapping objects), in phase order.
function gen.checks(list)
  local out = {}
  local single = #list == 1
  for _, m in ipairs(list) do
    if m.from == m.def.ledger then
      local n = m.check_names
      local function name(kind, plain)
        return n[kind] or ((single and plain) or (m.name .. "_" .. (plain or kind)))
      end
      local function add(c) c.generated = m.line; out[#out + 1] = c end
      add {name = n.accounted or (m.name .. "_accounted"), sql = accounted(m), needs = "complete"}
      add {name = name("no_double_resolution", "no_double_resolution"), sql = double_resolution(m)}
      if not m.update then add {name = n.values or (m.name .. "_values"), sql = values(m)} end
      for _, a in ipairs(m.also) do
        if not a.queue then add {name = a.check_names.values or (m.name .. "_" .. a.target .. "_values"), sql = values(a)} end
      end
      if #m.rules > 0 then add {name = name("rejects", "rejects_valid"), sql = rejects_valid(m)} end
      if has_refs(m) and not m.update then add {name = name("fixups", "fixups_logged"), sql = fixups_logged(m)} end
    end
  end
  return out
end

--- The generated checks of the sets declared in `sets` that say when a row is migrated (on the
--- ledger connection): `<set>_accounted`, renamed with check_names = {accounted = …}.
function gen.set_checks(sets, def)
  local out = {}
  for _, s in ipairs(sets) do
    if s.migrated ~= nil and (s.from or def.ledger) == def.ledger then
      local names = s.check_names or {}
      out[#out + 1] = {name = names.accounted or (s.name .. "_accounted"), needs = "complete", sql = set_accounted(s.name)}
    end
  end
  return out
end

return gen
