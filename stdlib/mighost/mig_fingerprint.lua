-- mighost.mig_fingerprint: the first look of a declared phase's one pass (mig_gencheck). What a
-- complete, correct run leaves is computed from the source and compared with what is there, as
-- three fingerprints (a count and a sum of 64-bit row hashes):
--   the mapped rows of the source rows no rule rejects (a reference nulled where the referenced
--   row is missing), cast to the target's column types  vs  the target table's rows;
--   (key, reason) of the source rows a rule rejects        vs  mig_meta.rejects of the phase;
--   (key, field, rule, old value) of each nulled reference  vs  mig_meta.fixups of the phase.
-- When all three agree, the target holds exactly the mapped rows, every reject's reason is the
-- first rule that holds for its row and every nulled reference is logged: the pass's counts are
-- known (migrated = the mapped rows, nothing differs) without joining the source to the target.
-- Each row's hash is mixed once more before the sum, so that values swapped between rows change
-- it. Anything else — a stopped run, rows another writer put in the target, a column type
-- without an extended hash function — makes them differ or keeps them from being taken, and the
-- row-by-row pass counts what differs.
local db = require "mighost.db"
local schema = require "mighost.schema"
local mapping = require "mighost.mig_mapping"

local fp = {}
local qi, lit = db.quote_ident, db.quote_literal

--- The sum of the mixed hashes of ROW(cols...) over the rows `cond` selects (0 for none).
local function hash_sum(cols, cond)
  return "COALESCE(sum(hashint8extended(hash_record_extended(ROW(" .. table.concat(cols, ", ") .. "), 0), 1))"
    .. (cond and (" FILTER (WHERE " .. cond .. ")") or "") .. ", 0)::text"
end
local function count(cond) return "count(*)" .. (cond and (" FILTER (WHERE " .. cond .. ")") or "") end

--- The target's mapped columns (name -> type) when each type hashes; nil when one does not.
local function hashable_types(m, ctx, e)
  local names = {}
  for _, col in ipairs(m.columns) do if e[col] then names[#names + 1] = col end end
  local unhashed = ctx.db:scalar([[SELECT count(*) FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1::regclass AND a.attname = ANY ($2::text[]) AND NOT EXISTS (SELECT 1 FROM pg_opclass oc
        JOIN pg_am am ON am.oid = oc.opcmethod AND am.amname = 'hash'
        JOIN pg_amproc p ON p.amprocfamily = oc.opcfamily AND p.amprocnum = 2
       WHERE oc.opcdefault AND oc.opcintype = CASE WHEN t.typtype = 'e' THEN 'anyenum'::regtype::oid
                                                   WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END)]],
    schema.qualify(m.target), db.array(names))
  if tonumber(unhashed) ~= 0 then return nil end
  local types = {}
  for _, c in ipairs(schema.columns(ctx.db, m.target) or {}) do types[c.name] = c.type end
  return types, names
end

--- The fingerprints as the source gives them (one scan, with the reference joins).
local function expected_sql(m, e, types, names)
  local gen = require "mighost.mig_gencheck"
  local joins, kept = gen.ref_joins(m, e)
  local rows, fixups, fixup_counts = {}, {}, {}
  for i, col in ipairs(names) do rows[i] = "CAST(" .. (kept[col] or ("(" .. e[col] .. ")")) .. " AS " .. types[col] .. ")" end
  local keytext = gen.keytext(m)
  for i, r in ipairs(m.refs) do
    local nulled = "x.__mig_rule IS NULL AND (" .. e[r.column] .. ") IS NOT NULL AND " .. kept[r.column] .. " IS NULL"
    fixup_counts[i] = count(nulled)
    fixups[i] = "(" .. hash_sum({keytext, lit(r.column) .. "::text", lit(r.rule) .. "::text", "(" .. e[r.column] .. ")::text"}, nulled)
      .. ")::numeric"
  end
  return "SELECT " .. count("x.__mig_rule IS NULL") .. " AS rows, " .. hash_sum(rows, "x.__mig_rule IS NULL") .. " AS rows_h, "
    .. count("x.__mig_rule IS NOT NULL") .. " AS rejects, "
    .. hash_sum({keytext, mapping.reason_of(m, "x.__mig_rule")}, "x.__mig_rule IS NOT NULL") .. " AS rejects_h, "
    .. (#m.refs > 0 and table.concat(fixup_counts, " + ") or "0") .. " AS fixups, "
    .. (#m.refs > 0 and ("(" .. table.concat(fixups, " + ") .. ")::text") or "'0'") .. " AS fixups_h"
    .. " FROM (" .. m.source_sql .. ") s CROSS JOIN LATERAL (SELECT " .. mapping.rule_case(m) .. " AS __mig_rule"
    .. (mapping.fenced(m) and " OFFSET 0" or "") .. ") x" .. table.concat(joins)
end

--- The same fingerprints of what is there: the target's rows, the phase's rejects and fixups.
local function actual_sql(m, names)
  local cols = {}
  for i, col in ipairs(names) do cols[i] = "t." .. qi(col) end
  local mine = "migration = " .. lit(m.def.name) .. " AND source_table = " .. lit(m.name)
  return "SELECT t.*, r.*, f.* FROM (SELECT " .. count() .. " AS rows, " .. hash_sum(cols) .. " AS rows_h FROM "
    .. schema.qualify(m.target) .. " t) t, (SELECT " .. count() .. " AS rejects, "
    .. hash_sum({"source_key", "reason"}) .. " AS rejects_h FROM mig_meta.rejects WHERE " .. mine .. ") r, (SELECT "
    .. count() .. " AS fixups, " .. hash_sum({"source_key", "field", "rule", "old_value"}) .. " AS fixups_h"
    .. " FROM mig_meta.fixups WHERE " .. mine .. ") f"
end

--- The one pass's counts when the fingerprints agree ({migrated = n, accounted = 0, …}), else nil.
--- m is a phase the one pass counts (mig_gencheck.one_pass: not in place, no derived values, no
--- reference with a fallback); it is fingerprinted when it has one plain target and its rules are
--- SQL over the source. When the target's and the rejects' rows do not add up to the source's,
--- the source is not fingerprinted at all.
function fp.counts(m, ctx)
  if (m.also and #m.also > 0) or m.audit or not require("mighost.mig_gencheck").rules_in_sql(m) then return nil end
  local e = m:exprs(ctx)
  local types, names = hashable_types(m, ctx, e)
  if not types then return nil end
  local have = ctx.db:query(actual_sql(m, names))[1]
  local source = ctx.db:scalar("SELECT count(*) FROM (" .. m.source_sql .. ") s")
  if tonumber(have.rows) + tonumber(have.rejects) ~= tonumber(source) then return nil end
  local want = ctx.db:query(expected_sql(m, e, types, names))[1]
  for _, k in ipairs({"rows", "rows_h", "rejects", "rejects_h", "fixups", "fixups_h"}) do
    if tostring(want[k]) ~= tostring(have[k]) then return nil end
  end
  return {migrated = want.rows, accounted = 0, double = 0, values = 0, fixups = 0, rejects = 0, fingerprinted = true}
end

return fp
