-- mighost.mig_gencheck: the checks that follow from a declared phase. They compare the source with
-- the target through full keys (the target key the mapping fills, mig_meta's primary keys), so
-- none depends on the planner guessing well:
--   <set>_accounted       every source row migrated or rejected (needs a complete run)
--   no_double_resolution  no source row both migrated and rejected
--   <set>_values          every migrated row's columns equal the mapping (as the column types)
--   fixups_logged         every reference the migration nulled has its fixup row
--   rejects_valid         every reject's reason is the first rule that holds for its row
-- The first four are counted in ONE pass over the source (hash joins with the target, the
-- rejects, the referenced tables and the fixups), which also gives counts.<set>.migrated: it is
-- taken with the run's counts, just before the checks, in the same transaction. A complete,
-- correct run is first recognised by fingerprints (mig_fingerprint), which also prove the fifth;
-- the pass runs when they differ, and counts what does. A script renames
-- one with `check_names = {values = "…"}`. Also:
-- `<set>_<table>_values` per target of `also` (queues aside), and `<set>_accounted` per set of
-- `sets` that says when its rows are migrated. Phases with an in-place target, derived values or a
-- reference with a fallback get the same checks one query each (mig_gencheck_each).
local db = require "mighost.db"
local log = require "mighost.log"
local schema = require "mighost.schema"
local mapping = require "mighost.mig_mapping"

local gen = {}
local qi, lit = db.quote_ident, db.quote_literal

--- The key text of the source row s (as mig_meta stores it): key columns as text, composite keys
--- joined with '|'.
function gen.keytext(m)
  local parts = {}
  for i, k in ipairs(m.keys) do parts[i] = "s." .. qi(k) .. "::text" end
  if #parts == 1 then return parts[1] end
  return "concat_ws('|', " .. table.concat(parts, ", ") .. ")"
end
local keytext = gen.keytext

--- The source row s has a reject (a probe of mig_meta.rejects' primary key).
function gen.rejected(m)
  return "EXISTS (SELECT 1 FROM mig_meta.rejects r WHERE r.migration = " .. lit(m.def.name)
    .. " AND r.source_table = " .. lit(m.name) .. " AND r.source_key = " .. keytext(m) .. ")"
end

--- LEFT JOIN of mig_meta.<tbl> (rejects or fixups) on its whole key for the source row s.
function gen.ledger_join(m, tbl, alias, extra)
  return " LEFT JOIN mig_meta." .. tbl .. " " .. alias .. " ON " .. alias .. ".migration = " .. lit(m.def.name)
    .. " AND " .. alias .. ".source_table = " .. lit(m.name) .. " AND " .. alias .. ".source_key = " .. keytext(m)
    .. (extra or "")
end
local ledger_join = gen.ledger_join

--- The LEFT JOIN of each of t's reference rules (alias r<i>) to the row its mapped value names
--- (e: t's expressions), and per reference column the key found there (NULL: that row is missing).
function gen.ref_joins(t, e)
  local joins, kept = {}, {}
  for i, r in ipairs(t.refs) do
    kept[r.column] = "r" .. i .. "." .. qi(r.key)
    joins[i] = " LEFT JOIN " .. schema.qualify(r.table) .. " r" .. i .. " ON " .. kept[r.column] .. " = (" .. e[r.column] .. ")"
  end
  return joins, kept
end

--- True when every reject rule of m is SQL over the source row (none decided in Lua or over the target).
function gen.rules_in_sql(m)
  for _, r in ipairs(m.rules) do
    if r.lua or r.target_side then return false end
  end
  return true
end

--- A migrated row differs from the mapping: compared as computed first, and only a row that
--- differs is compared again with the values cast to the column types (a numeric(12,2) or
--- timestamp(3) column holds the value rounded), so the casts cost nothing on a correct run.
function gen.differs(m, ctx, e, refs)
  local types = {}
  for _, c in ipairs(schema.columns(ctx.db, m.target) or {}) do types[c.name] = c.type end
  local left, raw, cast = {}, {}, {}
  for _, col in ipairs(m.columns) do
    if e[col] then
      left[#left + 1] = "t." .. qi(col)
      local v = refs[col] or ("(" .. e[col] .. ")")
      raw[#raw + 1] = v
      cast[#cast + 1] = types[col] and ("CAST(" .. v .. " AS " .. types[col] .. ")") or v
    end
  end
  local l = "ROW(" .. table.concat(left, ", ") .. ")"
  return l .. " IS DISTINCT FROM ROW(" .. table.concat(raw, ", ") .. ") AND " .. l
    .. " IS DISTINCT FROM ROW(" .. table.concat(cast, ", ") .. ")"
end
local differs = gen.differs

--- The one-pass query: accounted, double, values, fixups counts.
local function pass_sql(m, ctx)
  local e = m:exprs(ctx)
  local joins, unlogged = {}, {}
  local migrated
  if m.update then
    migrated = "(" .. m:migrated(ctx) .. ")"
  else
    -- migrated: every target's row is there (the main target's and those of `also`, queues aside)
    local found = {}
    for ti, t in ipairs(m:resolving()) do
      local alias = ti == 1 and "t" or ("t" .. ti)
      joins[ti] = " LEFT JOIN " .. schema.qualify(t.target) .. " " .. alias .. " ON " .. t:match(ctx, alias)
      found[ti] = alias .. ".ctid IS NOT NULL"
    end
    migrated = "(" .. table.concat(found, " AND ") .. ")"
  end
  joins[#joins + 1] = ledger_join(m, "rejects", "rj")
  local ref_joins, refs = gen.ref_joins(m, e)
  for _, j in ipairs(ref_joins) do joins[#joins + 1] = j end
  if not m.update then
    local fixup_of, n = {}, 0
    for ti, t in ipairs(m:resolving()) do
      local alias, te = ti == 1 and "t" or ("t" .. ti), t:exprs(ctx)
      for _, r in ipairs(t.refs) do
        local f = fixup_of[r.column]
        if not f then   -- one join per field on mig_meta.fixups' whole key
          n = n + 1
          f = "f" .. n
          fixup_of[r.column] = f
          joins[#joins + 1] = ledger_join(m, "fixups", f, " AND " .. f .. ".field = " .. lit(r.column))
        end
        unlogged[#unlogged + 1] = "((" .. te[r.column] .. ") IS NOT NULL AND " .. alias .. "."
          .. qi(r.column) .. " IS NULL AND " .. f .. ".field IS NULL)"
      end
    end
  end
  local function count(cond) return "count(*) FILTER (WHERE " .. cond .. ")" end
  return "SELECT now()::text AS taken_in, " .. count(migrated) .. " AS migrated, "
    .. count("NOT (" .. migrated .. ") AND rj.source_key IS NULL") .. " AS accounted, "
    .. count(migrated .. " AND rj.source_key IS NOT NULL") .. " AS double, "
    .. (m.update and "0" or count(migrated .. " AND " .. differs(m, ctx, e, refs))) .. " AS values, "
    .. (#unlogged > 0 and count(migrated .. " AND (" .. table.concat(unlogged, " OR ") .. ")") or "0") .. " AS fixups"
    .. " FROM (" .. m.source_sql .. ") s" .. table.concat(joins)
end

--- True when m's generated checks are counted in the one pass (and so is counts.<set>.migrated).
function gen.one_pass(m)
  return m.from == m.def.ledger and not m.update and not gen.needs_each(m)
end

local taken = setmetatable({}, {__mode = "k"})   -- [m] = {ctx, the pass's row}

--- Count `what` of m's one pass (migrated, accounted, double, values, fixups, rejects), taken once
--- per run (ctx), phase and transaction: the run's counts and its checks, which follow them in the
--- same transaction, read the same pass; a later transaction (after a rolled-back finalize) takes it
--- again. The pass is first looked at through fingerprints (mig_fingerprint): when they agree,
--- every count is known; else the rows are joined, and `rejects` is counted by its own query.
function gen.pass_count(m, ctx, what)
  local t = taken[m]
  local now = ctx.db:scalar("SELECT now()::text")
  if not (t and t.ctx == ctx and t.row.taken_in == now) then
    local row = require("mighost.mig_fingerprint").counts(m, ctx)
    if row then
      row.taken_in = now
      log.debug("checks of %s: the target, its rejects and fixups match the source's fingerprints", m.name)
    else
      row = ctx.db:query(pass_sql(m, ctx))[1]
    end
    t = {ctx = ctx, row = row}
    taken[m] = t
  end
  if what == "rejects" and t.row.rejects == nil then   -- the joined pass does not count it: its own query
    t.row.rejects = ctx.db:scalar(gen.rejects_valid(m)(ctx))
  end
  return t.row[what]
end

--- `<set>_<table>_values` of a target of `also`: its rows, for the source rows whose main target
--- row is there (a row of the same key may belong to the application), equal the mapping.
local function also_values(a)
  return function(ctx)
    local p, e = a.parent, a:exprs(ctx)
    local joins, refs = gen.ref_joins(a, e)
    return "SELECT count(*) FROM (" .. p.source_sql .. ") s JOIN " .. schema.qualify(p.target) .. " tp ON "
      .. p:match(ctx, "tp") .. " JOIN " .. schema.qualify(a.target) .. " t ON " .. a:match(ctx, "t")
      .. table.concat(joins) .. " WHERE " .. differs(a, ctx, e, refs)
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
    local rs = ctx._run:set(name)
    return "SELECT count(*) FROM (" .. rs.source_sql .. ") s WHERE NOT (" .. rs.migrated_sql .. ") AND NOT " .. rs.rejected_sql
  end
end

--- rejects_valid: every reject's reason is the first rule that holds for its source row (the
--- rules may read the phase's derived values d, computed here over the whole set); only that the
--- reason is a declared code when some rule is decided in Lua or over the target.
function gen.rejects_valid(m)
  local all_sql = gen.rules_in_sql(m)
  local codes = {}
  for i, r in ipairs(m.rules) do codes[i] = lit(r.code) end
  return function(ctx)
    m:exprs(ctx)   -- resolves conditions chosen at run time
    local derived = m:derived_sql(ctx)
    local head = "SELECT count(*) FROM mig_meta.rejects r JOIN (" .. m.source_sql .. ") s ON " .. keytext(m)
      .. " = r.source_key" .. (derived and m:derived_join("(" .. derived .. ")") or "")
      .. " WHERE r.migration = " .. lit(m.def.name) .. " AND r.source_table = " .. lit(m.name)
    if not all_sql then return head .. " AND r.reason NOT IN (" .. table.concat(codes, ", ") .. ")" end
    return head .. " AND r.reason IS DISTINCT FROM " .. mapping.reason_of(m, "(" .. mapping.rule_case(m) .. ")")
  end
end

--- True when m is checked one query each: an in-place target, derived values, or a reference
--- with a fallback.
function gen.needs_each(m)
  if m.update or m.derived then return true end
  for _, r in ipairs(m.refs) do
    if r.fallback or r.required then return true end
  end
  return false
end

--- The generated checks of the declared phases `list` (mig_mapping objects), in phase order.
function gen.checks(list)
  local out = {}
  local single = #list == 1
  for _, m in ipairs(list) do
    if m.from == m.def.ledger and gen.needs_each(m) then
      for _, c in ipairs(require("mighost.mig_gencheck_each").of(m, single)) do out[#out + 1] = c end
    elseif gen.one_pass(m) then
      local n = m.check_names
      local function name(kind, plain) return n[kind] or (single and plain) or (m.name .. "_" .. plain) end
      -- what: the pass's count it reads (nil: its own query); kind: its check_names key (false: skipped)
      local function add(c, what, kind)
        if n[kind or (what == "double" and "no_double_resolution") or what] == false then return end
        c.generated = m.line
        if what then c.fn = function(ctx) return gen.pass_count(m, ctx, what) end end
        out[#out + 1] = c
      end
      add({name = n.accounted or (m.name .. "_accounted"), needs = "complete"}, "accounted")
      add({name = name("no_double_resolution", "no_double_resolution")}, "double")
      if not m.update then add({name = n.values or (m.name .. "_values")}, "values") end
      for _, a in ipairs(m.also or {}) do
        if not a.queue then add({name = a.check_names.values or (m.name .. "_" .. a.target .. "_values"),
                                 sql = also_values(a)}, nil, "also_values") end
      end
      if has_refs(m) and not m.update then add({name = name("fixups", "fixups_logged")}, "fixups") end
      if #m.rules > 0 then add({name = name("rejects", "rejects_valid")}, "rejects") end
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
