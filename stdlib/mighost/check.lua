-- mighost.check: data checks that prove a migration lost nothing. Each check takes a connection
-- and an options table and returns {name, passed, expected, actual, samples} (expected and
-- actual as text, samples an array of strings). Values are compared inside PostgreSQL, never
-- through a Lua number; identifiers are always quoted (see mighost.schema for table forms).
local db = require "mighost.db"
local schema = require "mighost.schema"
local bit = require "bit"

local M = {}

local NULL = db.NULL
local DEFAULT_SAMPLES = 10

local Result = {}
Result.__index = Result
Result.__tostring = function(r)
  return string.format("CHECK %s %s expected=%s actual=%s", r.name,
                       r.passed == nil and "SKIP" or (r.passed and "PASS" or "FAIL"), r.expected, r.actual)
end

local function result(name, passed, expected, actual, samples, extra)
  local r = extra or {}
  r.name, r.passed, r.expected, r.actual, r.samples = name, passed, tostring(expected), tostring(actual), samples or {}
  return setmetatable(r, Result)
end

local function text(v)
  if v == nil or v == NULL then return "NULL" end
  return tostring(v)
end

--- SQL text for a relation: a table ("t", "s.t", {s, t}, {table=..., where=...}) or {sql = "..."}.
local function source(rel)
  if type(rel) == "table" and getmetatable(rel) == nil and rel.sql then
    -- Newlines so a trailing -- comment cannot swallow the closing parenthesis.
    return "(\n" .. rel.sql:gsub("[%s;]+$", "") .. "\n)"
  end
  local q = schema.qualify(rel)
  if type(rel) == "table" and rel.where then return "(SELECT * FROM " .. q .. " WHERE (" .. rel.where .. "))" end
  return q
end

local function list(v)
  if type(v) == "string" then return {v} end
  assert(type(v) == "table" and #v > 0, "expected a column name or an array of column names")
  return v
end

--- `alias."a", alias."b"` (or with a suffix per column, e.g. "::text").
local function columns_sql(cols, alias, suffix)
  local out = {}
  for i, c in ipairs(cols) do out[i] = alias .. "." .. db.quote_ident(c) .. (suffix or "") end
  return table.concat(out, ", ")
end

--- The key of a row as text: composite keys joined with '|', NULL spelled NULL.
local function key_sql(cols, alias)
  local out = {}
  for i, c in ipairs(cols) do out[i] = "coalesce(" .. alias .. "." .. db.quote_ident(c) .. "::text, 'NULL')" end
  return table.concat(out, " || '|' || ")
end

local function all_not_null(cols, alias)
  local out = {}
  for i, c in ipairs(cols) do out[i] = alias .. "." .. db.quote_ident(c) .. " IS NOT NULL" end
  return table.concat(out, " AND ")
end

local function column_of(rows, name)
  local out = {}
  for i, r in ipairs(rows) do out[i] = text(r[name]) end
  return out
end

local function limit(o) return tonumber(o.samples) or DEFAULT_SAMPLES end

--- A value to compare: a number or {value = "123.45"} (bound as numeric), else a subquery `agg`
--- over the relation. Appends parameters to `params`.
local function operand(x, agg, params)
  if type(x) == "number" or (type(x) == "table" and getmetatable(x) == nil and x.value ~= nil) then
    params[#params + 1] = type(x) == "number" and x or tostring(x.value)
    return "$" .. #params .. "::numeric"
  end
  return "(SELECT " .. agg .. " FROM " .. source(x) .. " AS s)"
end

local function compare(conn, name, l, r, params)
  local row = conn:query("SELECT l::text AS l, r::text AS r, l IS NOT DISTINCT FROM r AS same FROM (SELECT "
                         .. l .. " AS l, " .. r .. " AS r) x", unpack(params))[1]
  return result(name, row.same, text(row.l), text(row.r))
end

--- count(*) of left (expected) equals count(*) of right (actual); either may be a number.
function M.count_equal(conn, o)
  local params = {}
  return compare(conn, o.name or "count_equal", operand(o.left, "count(*)", params),
                 operand(o.right, "count(*)", params), params)
end

--- sum(column) of left equals sum(column) of right, exactly (numeric in SQL; an empty sum is 0).
--- o.column for both sides, or o.left_column / o.right_column; o.left_expr / o.right_expr take
--- raw SQL over the alias `s` instead (not quoted: the script's own SQL).
function M.sum_equal(conn, o)
  local function agg(side)
    local expr = o[side .. "_expr"] or ("s." .. db.quote_ident(assert(o[side .. "_column"] or o.column,
                                                               "sum_equal: column is required")))
    return "coalesce(sum(" .. expr .. "), 0)"
  end
  local params = {}
  return compare(conn, o.name or "sum_equal", operand(o.left, agg("left"), params),
                 operand(o.right, agg("right"), params), params)
end

--- Runs `SELECT count(*)` and a sample query over the same FROM/WHERE; expected 0.
local function violations(conn, o, name, from_where, sample_expr, params)
  local n = conn:scalar("SELECT count(*)::text " .. from_where, unpack(params or {}))
  local samples = {}
  if n ~= "0" then
    local p = {unpack(params or {})}
    p[#p + 1] = limit(o)
    samples = column_of(conn:query("SELECT DISTINCT " .. sample_expr .. " AS v " .. from_where ..
                                   " ORDER BY 1 LIMIT $" .. #p, unpack(p)), "v")
  end
  return result(o.name or name, n == "0", "0", n, samples)
end

--- Rows of o.child whose o.column (or columns) has no match in o.parent's o.parent_column.
--- Rows with a NULL in the reference are not orphans (as for a MATCH SIMPLE foreign key).
function M.no_orphans(conn, o)
  local cols = list(assert(o.column or o.columns, "no_orphans: column is required"))
  local pcols = list(assert(o.parent_column or o.parent_columns, "no_orphans: parent_column is required"))
  assert(#cols == #pcols, "no_orphans: column and parent_column differ in number")
  local match = {}
  for i = 1, #cols do
    match[i] = "p." .. db.quote_ident(pcols[i]) .. " = c." .. db.quote_ident(cols[i])
  end
  local from_where = "FROM " .. source(o.child) .. " AS c WHERE " .. all_not_null(cols, "c") ..
                     " AND NOT EXISTS (SELECT 1 FROM " .. source(o.parent) .. " AS p WHERE " ..
                     table.concat(match, " AND ") .. ")"
  return violations(conn, o, "no_orphans", from_where, key_sql(cols, "c"))
end

--- Duplicates of o.columns in o.table: the number of rows beyond the first of each key (rows
--- with a NULL in the key are distinct, as in a UNIQUE constraint). Samples are keys.
function M.unique(conn, o)
  local cols = list(assert(o.columns or o.column, "unique: columns is required"))
  local groups = "FROM (SELECT " .. key_sql(cols, "s") .. " AS k, count(*) AS n FROM " .. source(o.table) ..
                 " AS s WHERE " .. all_not_null(cols, "s") .. " GROUP BY " .. columns_sql(cols, "s") ..
                 " HAVING count(*) > 1) d"
  local n = conn:scalar("SELECT coalesce(sum(n - 1), 0)::text " .. groups)
  local samples = n == "0" and {} or
    column_of(conn:query("SELECT k " .. groups .. " ORDER BY k LIMIT $1", limit(o)), "k")
  return result(o.name or "unique", n == "0", "0", n, samples)
end

--- Rows of o.table with a NULL in any of o.columns. Samples: o.key's value, else the row's text.
function M.not_null(conn, o)
  local cols = list(assert(o.columns or o.column, "not_null: columns is required"))
  local any_null = {}
  for i, c in ipairs(cols) do any_null[i] = "s." .. db.quote_ident(c) .. " IS NULL" end
  local sample = o.key and key_sql(list(o.key), "s") or "left(ROW(s.*)::text, 200)"
  return violations(conn, o, "not_null", "FROM " .. source(o.table) .. " AS s WHERE " ..
                    table.concat(any_null, " OR "), sample)
end

--- Rows of o.table whose o.column is not one of o.values (compared as text). NULL is allowed
--- unless o.allow_null == false. Samples are the offending values.
function M.values_in(conn, o)
  local col = "s." .. db.quote_ident(assert(o.column, "values_in: column is required"))
  local allowed = {}
  for i, v in ipairs(assert(o.values, "values_in: values is required")) do allowed[i] = tostring(v) end
  local cond = "NOT coalesce(" .. col .. "::text = ANY($1::text[]), " .. tostring(o.allow_null ~= false) .. ")"
  return violations(conn, o, "values_in", "FROM " .. source(o.table) .. " AS s WHERE " .. cond,
                    "coalesce(" .. col .. "::text, 'NULL')", {db.array(allowed)})
end

--- o.sql returns a violation count in its first column; passes when it equals o.expected (0).
--- o.params: array of parameters for $1..$n.
function M.query_zero(conn, o)
  local params = {unpack(o.params or {})}
  params[#params + 1] = tostring(o.expected or 0)
  local rows = conn:query("SELECT v::text AS v, v::text::numeric = $" .. #params .. "::numeric AS same FROM " ..
                          source({sql = o.sql}) .. " AS q(v) LIMIT 1", unpack(params))
  local row = rows[1]
  return result(o.name or "query_zero", row ~= nil and row.same == true, o.expected or 0,
                row and text(row.v) or "no row")
end

--- o.sql must return no rows; actual is how many it returned, samples the first rows as text.
function M.query_empty(conn, o)
  local params = o.params or {}
  return violations(conn, o, "query_empty", "FROM " .. source({sql = o.sql}) .. " AS s", "left(ROW(s.*)::text, 200)",
                    params)
end

local HASH64 = "('x' || substr(%s, %d, 16))::bit(64)::int8"

--- An order-independent content hash of a table or {sql = ...}: md5 of the row count and of the
--- sums of both 64-bit halves of md5(row text). Equal contents give equal hashes whatever the
--- physical order; duplicates count. Returns the hex digest and the row count (as text).
function M.fingerprint(conn, rel)
  local row = conn:query("SELECT count(*)::text AS n, md5(count(*)::text || ':' || coalesce(sum(" ..
                         HASH64:format("h", 1) .. "), 0)::text || ':' || coalesce(sum(" .. HASH64:format("h", 17) ..
                         "), 0)::text) AS fp FROM (SELECT md5(ROW(s.*)::text) AS h FROM " .. source(rel) .. " AS s) t")[1]
  return row.fp, row.n
end

--- o.left (or o.table) has the fingerprint o.expected, or that of o.right (on o.right_conn).
function M.fingerprint_equal(conn, o)
  local left, n = M.fingerprint(conn, assert(o.left or o.table, "fingerprint_equal: left is required"))
  local right = o.expected or M.fingerprint(o.right_conn or conn, assert(o.right, "fingerprint_equal: right or expected is required"))
  return result(o.name or "fingerprint_equal", left == right, right, left, {}, {rows = n})
end

--- EXPLAIN (FORMAT JSON) of o.sql (with o.params) uses the index o.index. Samples: plan nodes.
function M.uses_index(conn, o)
  local _, index = schema.split(assert(o.index, "uses_index: index is required"))
  local plan = conn:scalar("EXPLAIN (FORMAT JSON) " .. o.sql:gsub("[%s;]+$", ""), unpack(o.params or {}))
  local row = conn:query([[
    SELECT ARRAY(SELECT DISTINCT v #>> '{}' FROM jsonb_path_query($1::jsonb, 'lax $.**."Index Name"') v
                  ORDER BY 1)::text[] AS used,
           ARRAY(SELECT (n ->> 'Node Type') || coalesce(' using ' || (n ->> 'Index Name'), '')
                        || coalesce(' on ' || (n ->> 'Relation Name'), '')
                   FROM jsonb_path_query($1::jsonb, 'strict $.** ? (exists (@."Node Type"))') n)::text[] AS nodes]],
    plan)[1]
  local used, passed = {}, false
  for i = 1, row.used.n do
    used[i] = row.used[i]
    passed = passed or used[i] == index
  end
  local nodes = {}
  for i = 1, row.nodes.n do nodes[i] = row.nodes[i] end
  return result(o.name or "uses_index", passed, index, #used > 0 and table.concat(used, ",") or "no index", nodes)
end

-- reconcile ---------------------------------------------------------------------------------

local BUCKET_OF = "(('x' || substr(md5(k), 1, 8))::bit(32)::int & %d)"

--- `SELECT k, h FROM side`: key text and md5 of the compared columns' row text.
local function side_sql(rel, key, cols)
  local row = #cols > 0 and "ROW(" .. columns_sql(cols, "s") .. ")::text" or "''"
  return "SELECT " .. key_sql(key, "s") .. " AS k, md5(" .. row .. ") AS h FROM " .. source(rel) .. " AS s"
end

local function default_columns(lc, rc, left, right, key)
  local function names(c, rel) return c:query("SELECT * FROM " .. source(rel) .. " AS s LIMIT 0").columns end
  local skip, present, out = {}, {}, {}
  for _, k in ipairs(key) do skip[k] = true end
  for _, c in ipairs(names(rc, right)) do present[c] = true end
  for _, c in ipairs(names(lc, left)) do
    if present[c] and not skip[c] then out[#out + 1] = c end
  end
  return out
end

--- Diffs two {k -> h} maps fetched from the same key range into the running totals.
local function diff_rows(st, lrows, rrows)
  local l, r = {}, {}
  st.fetched = st.fetched + #lrows + #rrows
  for _, row in ipairs(lrows) do
    if l[row.k] then st.duplicates = st.duplicates + 1 end
    l[row.k] = row.h
  end
  for _, row in ipairs(rrows) do
    if r[row.k] then st.duplicates = st.duplicates + 1 end
    r[row.k] = row.h
  end
  local function note(kind, k)
    st[kind] = st[kind] + 1
    local keys = st.keys[kind]
    keys[#keys + 1] = k
    if #keys >= 4 * st.keep + 64 then  -- keep the smallest keys only: bounded memory, same samples
      table.sort(keys)
      for i = #keys, st.keep + 1, -1 do keys[i] = nil end
    end
  end
  for k, h in pairs(l) do
    if r[k] == nil then note("missing", k) elseif r[k] ~= h then note("different", k) end
  end
  for k in pairs(r) do
    if l[k] == nil then note("extra", k) end
  end
end

--- {bucket -> "count:hash sum"} of one side, and its row count.
local function bucket_stats(c, sql, mask)
  local out, rows = {}, 0
  for _, row in ipairs(c:query("SELECT " .. BUCKET_OF:format(mask) .. " AS b, count(*) AS n, count(*)::text || ':' || sum(" ..
                               HASH64:format("md5(k || h)", 1) .. ")::text AS s FROM (" .. sql .. ") t GROUP BY 1")) do
    out[row.b] = row.s
    rows = rows + row.n
  end
  return out, rows
end

--- Per-key comparison of o.left (expected, "source") and o.right (actual, "target"; on
--- o.right_conn if given, so two databases can be compared). o.key: column or columns present on
--- both sides; o.columns: compared columns (default: those both sides have, minus the key),
--- compared by their text form, NULL distinct from ''. Missing = key only in left, extra = only
--- in right, different = both with other values. Above o.threshold rows (10000) it compares
--- per-bucket counts and hashes of o.buckets (1024) hashed key ranges first and fetches only
--- the rows of buckets that differ.
function M.reconcile(conn, o)
  local lc, rc = conn, o.right_conn or conn
  local key = list(assert(o.key, "reconcile: key is required"))
  local cols = o.columns or default_columns(lc, rc, o.left, o.right, key)
  local lsql, rsql = side_sql(o.left, key, cols), side_sql(o.right, key, cols)
  local st = {missing = 0, extra = 0, different = 0, duplicates = 0, fetched = 0, keep = limit(o),
              keys = {missing = {}, extra = {}, different = {}}}
  local threshold = o.threshold or 10000
  local function small(c, sql)
    return tonumber(c:scalar("SELECT count(*) FROM (" .. sql .. " LIMIT $1) t", threshold + 1)) <= threshold
  end
  if small(lc, lsql) and small(rc, rsql) then
    st.method = "rows"
    local lrows, rrows = lc:query(lsql), rc:query(rsql)
    st.left_rows, st.right_rows = #lrows, #rrows
    diff_rows(st, lrows, rrows)
  else
    local buckets = o.buckets or 1024
    assert(buckets >= 1 and buckets <= 65536 and buckets % 1 == 0 and bit.band(buckets, buckets - 1) == 0,
           "reconcile: buckets must be a power of two up to 65536")
    local mask = buckets - 1
    local lb, rb
    lb, st.left_rows = bucket_stats(lc, lsql, mask)
    rb, st.right_rows = bucket_stats(rc, rsql, mask)
    local bad = {}
    for b = 0, mask do
      if lb[b] ~= rb[b] then bad[#bad + 1] = b end
    end
    st.method, st.buckets, st.buckets_differing = "buckets", buckets, #bad
    local pick = " WHERE " .. BUCKET_OF:format(mask) .. " = ANY($1::int[])"
    for first = 1, #bad, 64 do  -- a few buckets at a time: memory stays bounded
      local chunk = db.array({unpack(bad, first, math.min(first + 63, #bad))})
      diff_rows(st, lc:query("SELECT * FROM (" .. lsql .. ") t" .. pick, chunk),
                rc:query("SELECT * FROM (" .. rsql .. ") t" .. pick, chunk))
    end
  end
  local samples, n = {}, limit(o)
  for _, kind in ipairs({"missing", "extra", "different"}) do
    table.sort(st.keys[kind])
    st[kind .. "_keys"] = {unpack(st.keys[kind], 1, math.min(n, #st.keys[kind]))}
    for _, k in ipairs(st[kind .. "_keys"]) do samples[#samples + 1] = kind .. " " .. k end
  end
  local total = st.missing + st.extra + st.different + st.duplicates
  return result(o.name or "reconcile", total == 0, "0", total, samples, {
    missing = st.missing, extra = st.extra, different = st.different, duplicates = st.duplicates,
    missing_keys = st.missing_keys, extra_keys = st.extra_keys, different_keys = st.different_keys,
    method = st.method, buckets = st.buckets, buckets_differing = st.buckets_differing,
    left_rows = st.left_rows, right_rows = st.right_rows, rows_fetched = st.fetched,
    detail = string.format("missing %d, extra %d, different %d, duplicate keys %d (%s)", st.missing, st.extra,
                           st.different, st.duplicates, st.method == "rows" and "row by row" or
                           string.format("%d of %d buckets differ", st.buckets_differing, st.buckets))})
end

return M
