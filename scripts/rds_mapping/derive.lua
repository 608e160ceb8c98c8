-- rds_mapping.derive: what the target must hold, derived from the source snapshot alone (§5's
-- fingerprints and fixups_logged). One read-only query on the source session computes, with
-- window functions and joins over the whole snapshot, every table's migrated rows as §3 says they
-- must look — a second implementation of the rules, independent of how the phases ran them (batch
-- by batch, decided over the target) — and returns their fingerprints and the digest of the
-- references that must have been nulled.
local db = require "mighost.db"
local L = require "rds_mapping.legacy"
local R = require "rds_mapping.rules"

local D = {}
local qi = db.quote_ident

-- §5: the fingerprinted tables and their columns (bill without total_weight_kg).
D.FINGERPRINTED = {"user", "bag", "scan", "link", "bill", "bill_bag"}

function D.columns(t)
  local out = {}
  for _, col in ipairs(L.COLUMNS[t]) do
    if col[1] ~= "total_weight_kg" then out[#out + 1] = col[1] end
  end
  return out
end

--- The fingerprint expression of §5 over relation alias x.
function D.fingerprint_sql(t, from)
  local cols = {}
  for i, c in ipairs(D.columns(t)) do cols[i] = "x." .. qi(c) end
  return "SELECT md5(string_agg(ROW(" .. table.concat(cols, ", ") .. ")::text, E'\\n' ORDER BY x.id)) FROM " .. from .. " x"
end

local function cols_of(t, prefix)
  local out = {}
  for _, col in ipairs(L.COLUMNS[t]) do out[#out + 1] = prefix .. qi(col[1]) end
  return table.concat(out, ", ")
end

--- CTEs of table t: x_t (every source row, its target values and its source-side rule), y_t
--- (rules over the target applied against the ok_ sets of earlier tables), ok_t (the migrated
--- rows, ids kept), f_t (ok_t with its references kept or nulled).
local function table_ctes(res, t, ctes)
  local vals, rules = L.values(res, t), R.rules[t]
  local cols, whens = {}, {}
  for _, col in ipairs(L.COLUMNS[t]) do cols[#cols + 1] = "CAST(" .. vals[col[1]] .. " AS " .. col[3] .. ") AS " .. qi(col[1]) end
  for i, r in ipairs(rules) do
    if not r.missing and not r.duplicate then whens[#whens + 1] = "WHEN " .. r[2](res) .. " THEN " .. i end
  end
  local rule = #whens > 0 and ("CASE " .. table.concat(whens, " ") .. " END") or "NULL::int"
  ctes[#ctes + 1] = "x_" .. t .. " AS (SELECT " .. table.concat(cols, ", ") .. ", " .. rule .. " AS __rule FROM ("
    .. L.source(res, t) .. ") s)"
  local cur, dup = "x_" .. t, nil
  for i, r in ipairs(rules) do
    if r.missing then
      local joins, absent, n = {}, {}, 0
      local names = {}
      for col in pairs(r.missing) do names[#names + 1] = col end
      table.sort(names)
      for _, col in ipairs(names) do
        n = n + 1
        joins[#joins + 1] = " LEFT JOIN ok_" .. r.missing[col] .. " m" .. n .. " ON m" .. n .. ".id = y." .. qi(col)
        absent[#absent + 1] = "m" .. n .. ".id IS NULL"
      end
      local nxt = "y" .. i .. "_" .. t
      ctes[#ctes + 1] = nxt .. " AS (SELECT " .. cols_of(t, "y.") .. ", CASE WHEN (y.__rule IS NULL OR y.__rule > " .. i
        .. ") AND (" .. table.concat(absent, " OR ") .. ") THEN " .. i .. " ELSE y.__rule END AS __rule FROM " .. cur
        .. " y" .. table.concat(joins) .. ")"
      cur = nxt
    elseif r.duplicate then
      dup = r.duplicate   -- always the last rule: among the rows left, the lowest id wins
    end
  end
  local ok
  if dup then
    local part, nulls = {}, {}
    for i, c in ipairs(dup) do part[i] = "y." .. qi(c); nulls[i] = "y." .. qi(c) .. " IS NULL" end
    ok = "SELECT * FROM (SELECT y.*, CASE WHEN " .. table.concat(nulls, " OR ") .. " THEN 1 ELSE row_number() OVER"
      .. " (PARTITION BY " .. table.concat(part, ", ") .. " ORDER BY y.id) END AS __rn FROM " .. cur
      .. " y WHERE y.__rule IS NULL) z WHERE z.__rn = 1"
  else
    ok = "SELECT * FROM " .. cur .. " WHERE __rule IS NULL"
  end
  ctes[#ctes + 1] = "ok_" .. t .. " AS MATERIALIZED (" .. ok .. ")"
  -- references: kept when they name a migrated row (not the row itself with not_self)
  local fcols, joins, nulled, n = {}, {}, {}, 0
  local refs = R.references[t] or {}
  for _, col in ipairs(L.COLUMNS[t]) do
    local name, ref = col[1], refs[col[1]]
    if ref then
      n = n + 1
      local a = "r" .. n
      joins[#joins + 1] = " LEFT JOIN ok_" .. ref[1] .. " " .. a .. " ON " .. a .. ".id = z." .. qi(name)
        .. (ref.not_self and (" AND z." .. qi(name) .. " <> z.id") or "")
      fcols[#fcols + 1] = a .. ".id AS " .. qi(name)
      nulled[#nulled + 1] = "SELECT " .. db.quote_literal(t) .. " AS t, z.id, " .. db.quote_literal(name) .. " AS f, z."
        .. qi(name) .. "::text AS v FROM ok_" .. t .. " z" .. joins[#joins] .. " WHERE z." .. qi(name)
        .. " IS NOT NULL AND " .. a .. ".id IS NULL"
    else
      fcols[#fcols + 1] = "z." .. qi(name)
    end
  end
  ctes[#ctes + 1] = "f_" .. t .. " AS (SELECT " .. table.concat(fcols, ", ") .. " FROM ok_" .. t .. " z" .. table.concat(joins) .. ")"
  return nulled
end

--- The derivation query: one row with a column per fingerprinted table and `fixups` ("n:md5" of
--- the nulled references, ordered as D.FIXUPS_TARGET orders mig_meta.fixups).
local function all_ctes(res)
  local ctes, nulled = {}, {}
  for _, t in ipairs(L.ORDER) do
    for _, q in ipairs(table_ctes(res, t, ctes)) do nulled[#nulled + 1] = q end
  end
  return ctes, nulled
end

--- The rows table t must hold, in §2's column order, bill.total_weight_kg included (the bench's
--- psql anchor pipes this query into the target with \copy).
function D.table_query(res, t)
  local ctes = all_ctes(res)
  local cols = {}
  for _, col in ipairs(L.COLUMNS[t]) do cols[#cols + 1] = "f." .. qi(col[1]) end
  local from = "f_" .. t .. " f"
  if t == "bill" then
    for i, c in ipairs(cols) do
      if c == 'f."total_weight_kg"' then cols[i] = "COALESCE(w.total, 0) AS total_weight_kg" end
    end
    from = from .. " LEFT JOIN (SELECT bb.bill_id, sum(g.weight_kg ORDER BY bb.id) AS total FROM f_bill_bag bb"
      .. " JOIN f_bag g ON g.id = bb.bag_id GROUP BY bb.bill_id) w ON w.bill_id = f.id"
  end
  return "WITH " .. table.concat(ctes, ", ") .. " SELECT " .. table.concat(cols, ", ") .. " FROM " .. from
end

function D.query(res)
  local ctes, nulled = all_ctes(res)
  local out = {}
  for _, t in ipairs(D.FINGERPRINTED) do out[#out + 1] = "(" .. D.fingerprint_sql(t, "f_" .. t) .. ") AS " .. qi(t) end
  out[#out + 1] = "(SELECT count(*) || ':' || COALESCE(md5(string_agg(n.t || '|' || n.id || '|' || n.f || '|' || n.v, E'\\n'"
    .. " ORDER BY n.t COLLATE \"C\", n.id, n.f COLLATE \"C\")), '') FROM (" .. table.concat(nulled, " UNION ALL ") .. ") n) AS fixups"
  return "WITH " .. table.concat(ctes, ",\n") .. "\nSELECT " .. table.concat(out, ", ")
end

--- The same digest over what the run logged (target side).
D.FIXUPS_TARGET = [[SELECT count(*) || ':' || COALESCE(md5(string_agg(source_table || '|' || source_key || '|' || field
    || '|' || old_value, E'\n' ORDER BY source_table COLLATE "C", source_key::bigint, field COLLATE "C")), '')
  FROM mig_meta.fixups WHERE migration = 'rds_mapping' AND rule = 'orphan_reference']]

return D
