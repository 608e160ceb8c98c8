-- mighost.schema: what a database holds, from pg_catalog. Scripts use it to be idempotent
-- (table_exists, column_type, ...) and to adapt to installs whose column names differ
-- (find_column). Every function takes a connection first; tables are given as "table",
-- "schema.table" or {schema, table} and are always matched by exact name, never as SQL.
local db = require "mighost.db"

local M = {}

local NULL = db.NULL

--- Splits a table reference into schema (or nil: search_path) and name.
function M.split(rel)
  local kind = type(rel)
  if kind == "string" then
    local dot = rel:find(".", 1, true)
    if dot then return rel:sub(1, dot - 1), rel:sub(dot + 1) end
    return nil, rel
  elseif kind == "table" and getmetatable(rel) == nil then
    local s, t = rel.schema or rel[1], rel.table or rel.name or rel[2]
    if t == nil and rel.schema == nil then s, t = nil, rel[1] end
    if type(t) == "string" and (s == nil or type(s) == "string") then return s, t end
  end
  error("expected a table: \"name\", \"schema.name\" or {schema, name}, got " .. tostring(rel), 3)
end

--- The quoted SQL form: "schema"."table" (or "table").
function M.qualify(rel)
  local s, t = M.split(rel)
  if s then return db.quote_ident(s) .. "." .. db.quote_ident(t) end
  return db.quote_ident(t)
end

--- Rows of a catalog query with db.NULL turned into nil and SQL arrays into plain arrays.
local function rows(conn, sql, ...)
  local out = {}
  for i, row in ipairs(conn:query(sql, ...)) do
    local r = {}
    for k, v in pairs(row) do
      if v == NULL then
        v = nil
      elseif type(v) == "table" then
        local a = {}
        for j = 1, v.n or #v do a[j] = v[j] end
        v = a
      end
      r[k] = v
    end
    out[i] = r
  end
  return out
end

-- Matches pg_class c / pg_namespace n to ($1 schema or '' for search_path, $2 name).
local MATCH = [[
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname = $2::text AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND CASE WHEN $1::text = '' THEN pg_table_is_visible(c.oid) ELSE n.nspname = $1::text END]]

--- The table's oid, or nil when there is no such table (or view).
function M.table_oid(conn, rel)
  local s, t = M.split(rel)
  local oid = conn:scalar("SELECT c.oid::int8" .. MATCH, s or "", t)
  if oid == NULL then return nil end
  return oid  -- nil when there is no row
end

function M.table_exists(conn, rel) return M.table_oid(conn, rel) ~= nil end

function M.schema_exists(conn, name)
  return conn:scalar("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1::text)", name)
end

-- Schemas a listing covers when none is named: everything but the system's own.
local USER_SCHEMAS = [[(CASE WHEN $1::text IS NULL
   THEN n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
   ELSE n.nspname = $1::text END)]]

--- Tables, partitioned tables, views, materialized views and foreign tables:
--- {schema, name, kind, rows (planner estimate, nil if never analyzed), bytes (with indexes)}.
function M.tables(conn, schema_name)
  return rows(conn, [[
    SELECT n.nspname AS schema, c.relname AS name,
           CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
                WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END AS kind,
           CASE WHEN c.reltuples >= 0 THEN c.reltuples::int8 END AS rows,
           pg_total_relation_size(c.oid) AS bytes
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND ]] .. USER_SCHEMAS .. [[
     ORDER BY 1, 2]], schema_name)
end

--- Columns in order: {name, type (format_type, e.g. "character varying(255)"), type_name
--- (pg_type.typname), enum (bool), nullable, default (SQL text or nil), position, identity
--- ("always"/"by default"/nil), generated (the expression of a stored generated column, or nil)}.
--- nil when the table does not exist.
function M.columns(conn, rel)
  local oid = M.table_oid(conn, rel)
  if not oid then return nil end
  return rows(conn, [[
    SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, t.typname AS type_name,
           t.typtype = 'e' AS enum, NOT a.attnotnull AS nullable, a.attnum AS position,
           CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS "default",
           CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END AS generated,
           CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END AS identity
      FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum]], oid)
end

--- One column's description (as in columns()), or nil.
function M.column(conn, rel, name)
  for _, c in ipairs(M.columns(conn, rel) or {}) do
    if c.name == name then return c end
  end
  return nil
end

function M.column_exists(conn, rel, name) return M.column(conn, rel, name) ~= nil end

--- format_type() of a column ("integer", "numeric(12,2)"), or nil.
function M.column_type(conn, rel, name)
  local c = M.column(conn, rel, name)
  return c and c.type
end

--- The first of `aliases` that is a column of the table (exact names, in the given order),
--- and its description; nil when none is (or the table does not exist).
function M.find_column(conn, rel, aliases)
  if type(aliases) == "string" then aliases = {aliases} end
  local by_name = {}
  for _, c in ipairs(M.columns(conn, rel) or {}) do by_name[c.name] = c end
  for _, name in ipairs(aliases) do
    if by_name[name] then return name, by_name[name] end
  end
  return nil
end

local ACTIONS = {a = "no action", r = "restrict", c = "cascade", n = "set null", d = "set default"}
local KINDS = {p = "primary key", f = "foreign key", u = "unique", c = "check", x = "exclusion", t = "trigger"}

local CONSTRAINTS = [[
    SELECT k.conname AS name, k.contype::text AS code, pg_get_constraintdef(k.oid) AS definition,
           k.convalidated AS validated,
           ARRAY(SELECT a.attname FROM unnest(k.conkey) WITH ORDINALITY u(num, i)
                   JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.num ORDER BY u.i)::text[] AS columns,
           fn.nspname AS ref_schema, fc.relname AS ref_table,
           ARRAY(SELECT a.attname FROM unnest(k.confkey) WITH ORDINALITY u(num, i)
                   JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.num ORDER BY u.i)::text[] AS ref_columns,
           k.confupdtype::text AS on_update, k.confdeltype::text AS on_delete,
           sn.nspname AS src_schema, sc.relname AS src_table
      FROM pg_constraint k
      LEFT JOIN pg_class fc ON fc.oid = k.confrelid LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
      JOIN pg_class sc ON sc.oid = k.conrelid JOIN pg_namespace sn ON sn.oid = sc.relnamespace
     WHERE ]]

local function constraint_rows(conn, where, oid)
  local list = rows(conn, CONSTRAINTS .. where .. " ORDER BY k.contype, k.conname", oid)
  for _, k in ipairs(list) do
    k.type = KINDS[k.code] or k.code
    k.on_update, k.on_delete = ACTIONS[k.on_update], ACTIONS[k.on_delete]
  end
  return list
end

--- All constraints of a table: {name, type ("primary key", "foreign key", "unique", "check",
--- "exclusion"), definition, validated, columns, and for foreign keys ref_schema, ref_table,
--- ref_columns, on_update, on_delete}. nil when the table does not exist.
function M.constraints(conn, rel)
  local oid = M.table_oid(conn, rel)
  if not oid then return nil end
  return constraint_rows(conn, "k.conrelid = $1::oid", oid)
end

local function of_type(list, kind)
  local out = {}
  for _, k in ipairs(list or {}) do
    if k.type == kind then out[#out + 1] = k end
  end
  return out
end

--- {name, columns} of the primary key, or nil.
function M.primary_key(conn, rel)
  return of_type(M.constraints(conn, rel), "primary key")[1]
end

function M.foreign_keys(conn, rel) return of_type(M.constraints(conn, rel), "foreign key") end

--- Foreign keys of other tables that point at this one: {name, src_schema, src_table, columns, ref_columns, ...}.
function M.referenced_by(conn, rel)
  local oid = M.table_oid(conn, rel)
  if not oid then return {} end
  return constraint_rows(conn, "k.confrelid = $1::oid AND k.contype = 'f'", oid)
end

function M.constraint_exists(conn, rel, name)
  for _, k in ipairs(M.constraints(conn, rel) or {}) do
    if k.name == name then return true end
  end
  return false
end

--- Indexes: {name, columns (names; expressions as SQL), unique, primary, valid, method,
--- predicate (partial index WHERE, or nil), definition}. nil when the table does not exist.
function M.indexes(conn, rel)
  local oid = M.table_oid(conn, rel)
  if not oid then return nil end
  return rows(conn, [[
    SELECT ic.relname AS name, i.indisunique AS "unique", i.indisprimary AS "primary", i.indisvalid AS valid,
           am.amname AS method, pg_get_indexdef(i.indexrelid) AS definition,
           pg_get_expr(i.indpred, i.indrelid) AS predicate,
           ARRAY(SELECT CASE WHEN i.indkey[k - 1] = 0 THEN pg_get_indexdef(i.indexrelid, k, true)
                             ELSE (SELECT a.attname FROM pg_attribute a
                                    WHERE a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1]) END
                   FROM generate_series(1, i.indnkeyatts) k ORDER BY k)::text[] AS columns
      FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
     WHERE i.indrelid = $1::oid ORDER BY ic.relname]], oid)
end

--- Is there an index of this name ("name", "schema.name" or {schema, name})?
function M.index_exists(conn, rel)
  local s, t = M.split(rel)
  return conn:scalar([[SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('i', 'I') AND c.relname = $2::text
      AND CASE WHEN $1::text = '' THEN pg_table_is_visible(c.oid) ELSE n.nspname = $1::text END)]], s or "", t)
end

--- Enum types: {schema, name, labels} (labels in sort order); all user schemas or one.
function M.enums(conn, schema_name)
  return rows(conn, [[
    SELECT n.nspname AS schema, t.typname AS name,
           ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)::text[] AS labels
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typtype = 'e' AND ]] .. USER_SCHEMAS .. " ORDER BY 1, 2", schema_name)
end

--- The labels of one enum type ("name", "schema.name" or {schema, name}), or nil.
function M.enum_labels(conn, rel)
  local s, t = M.split(rel)
  local found = rows(conn, [[
    SELECT ARRAY(SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)::text[] AS labels
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE t.typtype = 'e' AND t.typname = $2::text
       AND CASE WHEN $1::text = '' THEN pg_type_is_visible(t.oid) ELSE n.nspname = $1::text END]], s or "", t)
  return found[1] and found[1].labels
end

--- Sequences: {schema, name, data_type, increment, last_value (nil before first use),
--- owner_schema, owner_table, owner_column (serial / identity column, or nil)}.
function M.sequences(conn, schema_name)
  return rows(conn, [[
    SELECT n.nspname AS schema, c.relname AS name, format_type(s.seqtypid, NULL) AS data_type,
           s.seqincrement AS increment, ps.last_value,
           tn.nspname AS owner_schema, tc.relname AS owner_table, ta.attname AS owner_column
      FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_sequences ps ON ps.schemaname = n.nspname AND ps.sequencename = c.relname
      LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
                           AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
      LEFT JOIN pg_class tc ON tc.oid = d.refobjid LEFT JOIN pg_namespace tn ON tn.oid = tc.relnamespace
      LEFT JOIN pg_attribute ta ON ta.attrelid = d.refobjid AND ta.attnum = d.refobjsubid
     WHERE ]] .. USER_SCHEMAS .. " ORDER BY 1, 2", schema_name)
end

--- Everything about one table: {schema, name, kind, rows, bytes, columns, primary_key,
--- foreign_keys, unique, checks, indexes, referenced_by}; nil when it does not exist.
function M.table(conn, rel)
  local oid = M.table_oid(conn, rel)
  if not oid then return nil end
  local t = rows(conn, [[
    SELECT n.nspname AS schema, c.relname AS name,
           CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table' WHEN 'v' THEN 'view'
                WHEN 'm' THEN 'materialized view' ELSE 'foreign table' END AS kind,
           CASE WHEN c.reltuples >= 0 THEN c.reltuples::int8 END AS rows,
           pg_total_relation_size(c.oid) AS bytes
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::oid]], oid)[1]
  local qualified = {t.schema, t.name}
  t.columns = M.columns(conn, qualified)
  local constraints = M.constraints(conn, qualified)
  t.primary_key = of_type(constraints, "primary key")[1]
  t.foreign_keys = of_type(constraints, "foreign key")
  t.unique = of_type(constraints, "unique")
  t.checks = of_type(constraints, "check")
  t.indexes = M.indexes(conn, qualified)
  t.referenced_by = M.referenced_by(conn, qualified)
  return t
end

--- {tables = {M.table(...), ...}, enums, sequences} for all user schemas, or opts.schema.
function M.describe(conn, opts)
  opts = opts or {}
  local out = {tables = {}, enums = M.enums(conn, opts.schema), sequences = M.sequences(conn, opts.schema)}
  for _, t in ipairs(M.tables(conn, opts.schema)) do
    out.tables[#out.tables + 1] = M.table(conn, {t.schema, t.name})
  end
  return out
end

return M
