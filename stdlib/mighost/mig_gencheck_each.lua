-- mighost.mig_gencheck_each: the generated checks of a declared phase as one query each, for the
-- phases the one-pass form of mig_gencheck does not cover: targets updated in place (rows matched
-- on the source key, done when `migrated` holds), derived values (joined as d) and references
-- with a fallback (judged against the referenced table, since the target holds the fallback).
local db = require "mighost.db"
local schema = require "mighost.schema"

local each = {}
local qi, lit = db.quote_ident, db.quote_literal

local gen = require "mighost.mig_gencheck"   -- loaded first: it requires this module when it runs
local rejected = gen.rejected

--- The target row t of each migrated source row s: a join, and (in-place targets, whose rows
--- exist before they are migrated) the condition that says the row is done.
local function resolved(m, ctx)
  if m.update then
    local on = {}
    for i, k in ipairs(m.keys) do on[i] = "t." .. qi(k) .. " = s." .. qi(k) end
    return " JOIN " .. schema.qualify(m.target) .. " t ON " .. table.concat(on, " AND "), "(" .. m:migrated(ctx) .. ") AND "
  end
  return " JOIN " .. schema.qualify(m.target) .. " t ON " .. m:match(ctx, "t"), ""
end

local function source(m) return "(" .. m.source_sql .. ") s" end

local function accounted(m)
  return function(ctx)
    return "SELECT count(*) FROM " .. source(m) .. " WHERE NOT (" .. m:migrated(ctx) .. ") AND NOT " .. rejected(m)
  end
end

local function double_resolution(m)
  return function(ctx)
    local j, done = resolved(m, ctx)
    return "SELECT count(*) FROM " .. source(m) .. j .. " WHERE " .. done .. rejected(m)
  end
end

local function values(m)
  return function(ctx)
    local e, refs, joins = m:exprs(ctx), {}, {}
    for i, r in ipairs(m.refs) do
      refs[r.column] = require("mighost.mig_mapping_sql").ref_value(r, e[r.column], "r" .. i .. "." .. qi(r.key))
      joins[#joins + 1] = " LEFT JOIN " .. schema.qualify(r.table) .. " r" .. i .. " ON r" .. i .. "." .. qi(r.key)
        .. " = (" .. e[r.column] .. ")"
    end
    local derived = m:derived_sql(ctx)
    local j, done = resolved(m, ctx)
    return "SELECT count(*) FROM " .. source(m) .. (derived and m:derived_join("(" .. derived .. ")") or "")
      .. j .. table.concat(joins) .. " WHERE " .. done .. gen.differs(m, ctx, e, refs)
  end
end

local function fixups_logged(m)
  return function(ctx)
    local e, joins, any = m:exprs(ctx), {}, {}
    for i, r in ipairs(m.refs) do
      -- one hash join per rule on mig_meta.fixups' whole key (small), not a probe per row
      joins[#joins + 1] = gen.ledger_join(m, "fixups", "f" .. i, " AND f" .. i .. ".field = " .. lit(r.column))
      -- a reference that names no row of its table (NULL too when required) needs its fixup
      joins[#joins + 1] = " LEFT JOIN " .. schema.qualify(r.table) .. " x" .. i .. " ON x" .. i .. "." .. qi(r.key)
        .. " = (" .. e[r.column] .. ")"
      any[i] = "(" .. (r.required and "" or ("(" .. e[r.column] .. ") IS NOT NULL AND ")) .. "x" .. i .. "."
        .. qi(r.key) .. " IS NULL AND f" .. i .. ".field IS NULL)"
    end
    local derived = m:derived_sql(ctx)
    local j, done = resolved(m, ctx)
    return "SELECT count(*) FROM " .. source(m) .. (derived and m:derived_join("(" .. derived .. ")") or "")
      .. j .. table.concat(joins) .. " WHERE " .. done .. "(" .. table.concat(any, " OR ") .. ")"
  end
end

--- The checks of one declared phase m, one query each (in phase order of kinds).
function each.of(m, single)
  local out = {}
  local n = m.check_names
  local function name(kind, plain)
    return n[kind] or ((single and plain) or (m.name .. "_" .. (plain or kind)))
  end
  -- check_names.<kind> = false: the script states that check itself (the spec's own form)
  local function add(c, kind) if n[kind] ~= false then c.generated = m.line; out[#out + 1] = c end end
  add({name = n.accounted or (m.name .. "_accounted"), sql = accounted(m), needs = "complete"}, "accounted")
  add({name = name("no_double_resolution", "no_double_resolution"), sql = double_resolution(m)}, "no_double_resolution")
  add({name = n.values or (m.name .. "_values"), sql = values(m)}, "values")
  if #m.rules > 0 then add({name = name("rejects", "rejects_valid"), sql = gen.rejects_valid(m)}, "rejects") end
  if #m.refs > 0 then add({name = name("fixups", "fixups_logged"), sql = fixups_logged(m)}, "fixups") end
  return out
end

return each
