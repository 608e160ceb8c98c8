-- mighost.mig_ddl: the target DDL as the spec writes it. PostgreSQL itself reads it: the DDL runs
-- in a savepoint with a scratch schema first on the search_path, the catalog says which tables,
-- columns, indexes and foreign keys it declares, and the savepoint is rolled back. No script (and
-- no Lua pattern) parses DDL.
--
-- A table the run creates is loaded the way pg_restore and pgloader load one: setup creates it
-- with its key, unique and CHECK constraints (what the batches need); after the phases the foreign
-- keys are added NOT VALID and validated (add_foreign_keys), and finalize adds the secondary
-- indexes: each built or validated once over all rows instead of maintained per row. Finalize
-- adds whatever declared index or foreign key is still missing, so a resumed, repeated or
-- partial-then-complete run ends with exactly the declared objects.
local db = require "mighost.db"

local ddl = {}
local qi = db.quote_ident
local SCRATCH = "mig_ddl_scratch"

local ROLLBACK = setmetatable({}, {__tostring = function() return "(scratch rollback)" end})

local function strip(t) return (t:gsub('"?' .. SCRATCH .. '"?%.', "")) end

local function read_tables(conn)
  local tables = {}
  for _, t in ipairs(conn:query([[SELECT c.oid::int8 AS oid, c.relname FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
      ORDER BY c.oid]], SCRATCH)) do
    local d = {name = t.relname, columns = {}, deferred = {}}
    for _, c in ipairs(conn:query([[SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute
        WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum]], t.oid)) do
      d.columns[#d.columns + 1] = {name = c.attname, type = strip(c.type)}
    end
    for _, i in ipairs(conn:query([[SELECT ic.relname, pg_get_indexdef(x.indexrelid) AS def FROM pg_index x
        JOIN pg_class ic ON ic.oid = x.indexrelid WHERE x.indrelid = $1::oid AND NOT x.indisunique
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)
        ORDER BY ic.relname]], t.oid)) do
      d.deferred[#d.deferred + 1] = {kind = "index", name = i.relname, using = i.def:match(" (USING .*)$")}
    end
    for _, k in ipairs(conn:query([[SELECT k.conname, pg_get_constraintdef(k.oid) AS def, r.relname,
          r.oid::regclass::text AS qualified, r.relnamespace <> $2::regnamespace AS existing
        FROM pg_constraint k JOIN pg_class r ON r.oid = k.confrelid
        WHERE k.conrelid = $1::oid AND k.contype = 'f' ORDER BY k.conname]], t.oid, SCRATCH)) do
      d.deferred[#d.deferred + 1] = {kind = "fkey", name = k.conname, def = strip(k.def),
                                     references = k.existing and {name = k.relname, from = k.qualified} or nil}
    end
    tables[#tables + 1] = d
  end
  return tables
end

ddl.SCRATCH = SCRATCH
ddl.strip = strip

--- Creates the scratch schema, first on the search_path until the transaction ends, with opts.enums
--- and the empty copies opts.copies in it (see with_scratch).
local function open_scratch(conn, opts)
  conn:exec("CREATE SCHEMA " .. SCRATCH)
  conn:exec("SELECT set_config('search_path', $1 || ', ' || current_setting('search_path'), true)", SCRATCH)
  local names = {}
  for name in pairs(opts.enums or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do conn:exec(ddl.enum_sql(SCRATCH, name, opts.enums[name])) end
  for _, c in ipairs(opts.copies or {}) do
    conn:exec("CREATE TABLE " .. SCRATCH .. "." .. qi(c.name) .. " (LIKE " .. c.from .. " INCLUDING ALL)")
  end
end

--- Runs fn() in a savepoint that is always rolled back, with the scratch schema first on the
--- search_path. opts.enums ({name = {labels}}): created there first, so DDL naming them reads the
--- same whether they exist yet or not; opts.copies ({{name, from}}): empty copies (LIKE, with
--- keys and defaults) of existing tables, so DDL naming them changes the copies, never the table
--- (nor waits for its locks). Returns fn's result; an SQL error is re-raised prefixed with `what`.
function ddl.with_scratch(conn, opts, what, fn)
  local out
  local ok, err = pcall(conn.tx, conn, function()
    open_scratch(conn, opts)
    out = fn()
    error(ROLLBACK, 0)
  end)
  if not ok and err ~= ROLLBACK then
    if type(err) == "table" and type(err.text) == "string" then err.text = what .. ": " .. err.text end
    error(err, 0)
  end
  return out
end

--- CREATE TYPE schema.name AS ENUM (labels…), every part quoted.
function ddl.enum_sql(schema, name, labels)
  local l = {}
  for i, v in ipairs(labels) do l[i] = db.quote_literal(v) end
  return "CREATE TYPE " .. (schema and (qi(schema) .. ".") or "") .. qi(name) .. " AS ENUM (" .. table.concat(l, ", ") .. ")"
end

--- What the DDL declares: an array of {name, columns = {{name, type}}, deferred = {{kind =
--- "index"|"fkey", name, using|def}}}, read without leaving anything behind. opts as for
--- with_scratch (the copies are not part of the answer).
function ddl.inspect(conn, text, opts)
  opts = opts or {}
  return ddl.with_scratch(conn, opts, "target_ddl", function()
    conn:exec(text)
    local copies, out = {}, {}
    for _, c in ipairs(opts.copies or {}) do copies[c.name] = true end
    for _, t in ipairs(read_tables(conn)) do
      if not copies[t.name] then out[#out + 1] = t end
    end
    return out
  end)
end

local function real_oid(conn, name)
  local oid = conn:scalar("SELECT to_regclass($1)::oid::int8", qi(name))
  if oid == db.NULL then return nil end
  return oid
end

local function has_object(conn, oid, o)
  if o.kind == "index" then
    return conn:scalar([[SELECT EXISTS (SELECT 1 FROM pg_index x JOIN pg_class ic ON ic.oid = x.indexrelid
        WHERE x.indrelid = $1::oid AND ic.relname = $2)]], oid, o.name) == true
  end
  return conn:scalar("SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = $1::oid AND conname = $2)",
    oid, o.name) == true
end

local function deferred_of(t, loaded)
  return (loaded == nil or loaded[t.name]) and t.deferred or {}
end

--- Drops table t's deferred indexes and foreign keys (t as found on the search_path).
local function drop_deferred(conn, t, loaded)
  local qt = conn:scalar("SELECT to_regclass($1)::text", qi(t.name))
  local schema = conn:scalar("SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    .. " WHERE c.oid = to_regclass($1)", qi(t.name))
  for _, o in ipairs(deferred_of(t, loaded)) do
    if o.kind == "index" then
      conn:exec("DROP INDEX " .. qi(schema) .. "." .. qi(o.name))
    else
      conn:exec("ALTER TABLE " .. qt .. " DROP CONSTRAINT " .. qi(o.name))
    end
  end
end

--- The existing tables that the deferred foreign keys of the missing tables reference, once each.
local function referenced(missing, loaded)
  local out, seen = {}, {}
  for _, t in ipairs(missing) do
    for _, o in ipairs(deferred_of(t, loaded)) do
      local r = o.references
      if r and not seen[r.from] then seen[r.from] = true; out[#out + 1] = r end
    end
  end
  return out
end

-- What a statement of the DDL could have done to a copy (rows, columns, constraints, indexes,
-- triggers, rules, grants, a comment): for the DDL's own statements about an existing table, the
-- copy must stay as it was made.
local COPY_STATE = [[SELECT concat_ws('|', c.relacl::text, c.relhasrules, obj_description(c.oid, 'pg_class'),
    (SELECT string_agg(concat_ws(':', attname, atttypid, atttypmod, attnotnull, atthasdef, attacl::text), ',' ORDER BY attnum)
       FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped),
    (SELECT string_agg(pg_get_constraintdef(oid), ',' ORDER BY conname) FROM pg_constraint WHERE conrelid = c.oid),
    (SELECT string_agg(pg_get_indexdef(indexrelid), ',' ORDER BY indexrelid) FROM pg_index WHERE indrelid = c.oid),
    (SELECT count(*) FROM pg_trigger WHERE tgrelid = c.oid AND NOT tgisinternal))
  FROM pg_class c WHERE c.oid = $1::regclass]]

local function copy_state(conn, copy)
  local empty = conn:scalar("SELECT NOT EXISTS (SELECT 1 FROM " .. copy .. ")")
  return tostring(empty) .. "|" .. conn:scalar(COPY_STATE, copy)
end

--- Creates the missing tables without touching the existing tables their deferred foreign keys
--- reference: the DDL runs with the scratch schema first on the search_path and empty copies of
--- those tables in it, so each new table and its keys are made there (a key on a copy locks only
--- the copy); the deferred objects are dropped and the tables moved to the schema they were
--- meant for. PostgreSQL guards the rest: the copies and the scratch schema are dropped without
--- CASCADE, so if the DDL made anything else there (a view, a function) or a kept key still points
--- at a copy, this fails, is rolled back, and returns nil; so it does when the DDL changed a copy
--- (rows inserted into an existing table, say). Returns the names created.
local function setup_in_scratch(conn, text, missing, loaded)
  local refs = referenced(missing, loaded)
  if #refs == 0 then return nil end
  local created
  local ok = pcall(conn.tx, conn, function()
    local home, path = conn:scalar("SELECT current_schema()"), conn:scalar("SELECT current_setting('search_path')")
    local rels = {}
    if home == db.NULL then error("no schema on the search_path", 0) end
    open_scratch(conn, {copies = refs})
    local made = {}
    for i, r in ipairs(refs) do made[i] = copy_state(conn, SCRATCH .. "." .. qi(r.name)) end
    conn:exec(text)
    for i, r in ipairs(refs) do
      if copy_state(conn, SCRATCH .. "." .. qi(r.name)) ~= made[i] then error("the DDL changes " .. r.from, 0) end
    end
    created = {}
    for _, t in ipairs(missing) do
      drop_deferred(conn, t, loaded)
      local in_scratch = conn:scalar([[SELECT relnamespace = $2::regnamespace FROM pg_class
          WHERE oid = to_regclass($1)]], qi(t.name), SCRATCH)
      if in_scratch then rels[#rels + 1] = t.name end
      created[#created + 1] = t.name
    end
    for _, name in ipairs(rels) do
      conn:exec("ALTER TABLE " .. SCRATCH .. "." .. qi(name) .. " SET SCHEMA " .. qi(home))
    end
    for _, r in ipairs(refs) do conn:exec("DROP TABLE " .. SCRATCH .. "." .. qi(r.name)) end
    conn:exec("DROP SCHEMA " .. SCRATCH)
    conn:exec("SELECT set_config('search_path', $1, true)", path)
  end)
  return ok and created or nil
end

--- Setup: when a declared table is missing, runs the DDL and then drops the secondary indexes
--- and foreign keys of the tables it created that the phases load (`loaded`: a set of names, or
--- nil for all; finalize adds them after the rows). A table no phase loads keeps them: it is
--- empty, and adding them later would only lock the tables they reference once more. The keys
--- dropped never touch the tables they reference (setup_in_scratch), unless the DDL makes more
--- than tables. Returns the names of the tables created.
function ddl.setup(conn, text, opts, loaded)
  local tables = ddl.inspect(conn, text, opts)
  local missing = {}
  for _, t in ipairs(tables) do
    if real_oid(conn, t.name) == nil then missing[#missing + 1] = t end
  end
  if #missing == 0 then return {} end
  local created = setup_in_scratch(conn, text, missing, loaded)
  if created then return created end
  conn:exec(text)
  created = {}
  for _, t in ipairs(missing) do
    drop_deferred(conn, t, loaded)
    created[#created + 1] = t.name
  end
  return created
end

--- Before finalize, each in its own short transaction: every declared foreign key of an existing
--- declared table is added NOT VALID, then validated. The referenced table, which the application
--- may be writing, is then blocked only for the ADD's catalog change (SHARE ROW EXCLUSIVE), not for
--- the check of every row, and not for the finalize transaction with its checks: VALIDATE
--- CONSTRAINT takes only ROW SHARE there. A key that some row breaks fails the run, and the keys
--- this call added are dropped again, so the tables are left as found. run(what, fn) retries fn on
--- a lock timeout. Returns the statements it ran.
function ddl.add_foreign_keys(conn, text, opts, run)
  local ran, added, todo = {}, {}, {}
  local function exec(what, stmt)
    -- its own transaction, or in a dry run a savepoint, so that a failed VALIDATE can be undone
    run(what, function() conn:tx(function() conn:exec(stmt) end) end)
    ran[#ran + 1] = stmt
  end
  for _, t in ipairs(ddl.inspect(conn, text, opts)) do
    local oid = real_oid(conn, t.name)
    local qt = oid and conn:scalar("SELECT $1::oid::regclass::text", oid)
    for _, o in ipairs(oid and t.deferred or {}) do
      if o.kind == "fkey" then
        local valid = conn:scalar("SELECT convalidated FROM pg_constraint WHERE conrelid = $1::oid AND conname = $2", oid, o.name)
        local k = {table = qt, name = qi(o.name)}
        if valid == nil then
          exec("foreign key " .. o.name, "ALTER TABLE " .. qt .. " ADD CONSTRAINT " .. k.name .. " " .. o.def .. " NOT VALID")
          added[#added + 1] = k
        end
        if valid ~= true then todo[#todo + 1] = k end
      end
    end
  end
  local ok, err = pcall(function()
    for _, k in ipairs(todo) do exec("validate " .. k.name, "ALTER TABLE " .. k.table .. " VALIDATE CONSTRAINT " .. k.name) end
  end)
  if not ok then
    for i = #added, 1, -1 do
      exec("drop " .. added[i].name, "ALTER TABLE " .. added[i].table .. " DROP CONSTRAINT " .. added[i].name)
    end
    error(err, 0)
  end
  return ran
end

--- Finalize: adds every declared secondary index and foreign key that the table lacks. Returns
--- the statements it ran.
function ddl.complete(conn, text, opts)
  local ran = {}
  for _, t in ipairs(ddl.inspect(conn, text, opts)) do
    local oid = real_oid(conn, t.name)
    if oid then
      local qt = conn:scalar("SELECT $1::oid::regclass::text", oid)
      for _, o in ipairs(t.deferred) do
        if not has_object(conn, oid, o) then
          local stmt
          if o.kind == "index" then stmt = "CREATE INDEX " .. qi(o.name) .. " ON " .. qt .. " " .. o.using
          else stmt = "ALTER TABLE " .. qt .. " ADD CONSTRAINT " .. qi(o.name) .. " " .. o.def end
          conn:exec(stmt)
          ran[#ran + 1] = stmt
        end
      end
    end
  end
  return ran
end

--- The precondition target_compatible: every declared table that exists already has the
--- declared columns with the declared types (`exact`: and no other column). Returns passed, detail.
function ddl.compatible(conn, text, opts, exact)
  local bad, seen = {}, {}
  for _, t in ipairs(ddl.inspect(conn, text, opts)) do
    local oid = real_oid(conn, t.name)
    if oid then
      seen[#seen + 1] = t.name
      local have = {}
      for _, c in ipairs(conn:query([[SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute
          WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped]], oid)) do
        have[c.attname] = c.type
      end
      for _, c in ipairs(t.columns) do
        if have[c.name] ~= c.type then
          bad[#bad + 1] = string.format('%s."%s" is %s, expected %s', t.name, c.name, have[c.name] or "missing", c.type)
        end
        have[c.name] = nil
      end
      if exact then
        local extra = {}
        for name in pairs(have) do extra[#extra + 1] = '"' .. name .. '"' end
        table.sort(extra)
        if #extra > 0 then bad[#bad + 1] = t.name .. " has columns the target DDL does not declare: " .. table.concat(extra, ", ") end
      end
    end
  end
  if #bad > 0 then return false, table.concat(bad, "; ") end
  if #seen == 0 then return true, "no declared table exists yet" end
  return true, table.concat(seen, ", ") .. " already exist(s) with the declared columns"
end

return ddl
