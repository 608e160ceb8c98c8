-- mighost.mig_alter: changes to tables that already exist, applied without holding a lock that
-- blocks writes for longer than a catalog update. The script gives the DDL as the spec writes it
-- (`alter_ddl`: ALTER TABLE … ADD COLUMN, CREATE [UNIQUE] INDEX, ALTER COLUMN … SET NOT NULL, ADD
-- CONSTRAINT … FOREIGN KEY / CHECK) and the enum types it needs (`enums`). PostgreSQL reads that
-- DDL against empty copies of the tables in the scratch schema (mig_ddl.with_scratch); the catalog
-- says what it adds, and the framework applies each addition in its lock-safe form:
--   setup (the setup transaction)   missing columns, one ALTER per table (no rewrite, no scan:
--                                   PostgreSQL adds a column with a constant default in place);
--                                   a NOT NULL column without a default is added nullable
--   online (complete runs, after    indexes: CREATE [UNIQUE] INDEX CONCURRENTLY, outside any
--   the rows, each statement in     transaction (an invalid one left by an interrupted build is
--   its own transaction)            dropped first); foreign keys and CHECKs: ADD … NOT VALID, then
--                                   VALIDATE (no write-blocking lock while the rows are checked);
--                                   NOT NULL: a CHECK (col IS NOT NULL) NOT VALID, then VALIDATE
--   switch (the finalize            SET NOT NULL (no scan: the validated CHECK proves it), then
--   transaction, after the checks   the CHECK is dropped; ACCESS EXCLUSIVE is held only for the
--   that do not need finalize)      checks that need finalize and the commit
-- Inside a dry run (one transaction) CONCURRENTLY is impossible: indexes are built plainly there.
local db = require "mighost.db"
local ddl = require "mighost.mig_ddl"

local alter = {}
local qi = db.quote_ident

--- The copies the scratch schema needs: the declared backup tables that exist, in their legacy
--- shape (the snapshot once it exists: the table itself has the added columns by then).
function alter.copies(conn, def)
  local out = {}
  for _, t in ipairs(def.backup) do
    local tbl = t:match("%.(.+)$") or t
    local snap = qi("mig_backup_" .. def.name) .. "." .. qi(tbl)
    local from = conn:scalar("SELECT to_regclass($1) IS NOT NULL", snap) and snap
      or (conn:scalar("SELECT to_regclass($1) IS NOT NULL", qi(tbl)) and qi(tbl)) or nil
    if from then out[#out + 1] = {name = tbl, from = from} end
  end
  return out
end

local function state(conn, name)
  local oid = conn:scalar("SELECT to_regclass($1)::oid::int8", ddl.SCRATCH .. "." .. qi(name))
  local st = {columns = {}, order = {}, indexes = {}, constraints = {}}
  for _, c in ipairs(conn:query([[SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
      pg_get_expr(d.adbin, d.adrelid) AS def FROM pg_attribute a
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum]], oid)) do
    st.columns[c.attname] = {name = c.attname, type = ddl.strip(c.type), not_null = c.attnotnull,
                             default = c.def ~= db.NULL and ddl.strip(c.def) or nil}
    st.order[#st.order + 1] = c.attname
  end
  for _, i in ipairs(conn:query([[SELECT ic.relname, x.indisunique, pg_get_indexdef(x.indexrelid) AS def,
      EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid) AS owned FROM pg_index x
      JOIN pg_class ic ON ic.oid = x.indexrelid WHERE x.indrelid = $1::oid ORDER BY ic.relname]], oid)) do
    st.indexes[i.relname] = {name = i.relname, unique = i.indisunique, owned = i.owned,
                             using = ddl.strip(i.def:match(" (USING .*)$"))}
  end
  for _, k in ipairs(conn:query([[SELECT conname, contype::text AS kind, pg_get_constraintdef(oid) AS def
      FROM pg_constraint WHERE conrelid = $1::oid ORDER BY conname]], oid)) do
    st.constraints[k.conname] = {name = k.conname, kind = k.kind, def = ddl.strip(k.def)}
  end
  return st
end

--- A NOT NULL proof's name: <table>_<column>_not_null, cut to PostgreSQL's 63 bytes.
local function proof_name(t, col) return (t .. "_" .. col .. "_not_null"):sub(1, 63) end

--- What alter_ddl adds, per table in DDL order: {name, add = {{name, type, default, not_null}},
--- indexes = {{name, unique, using}}, constraints = {{name, kind, def}}, not_null = {{column,
--- proof}}}. Read in the scratch schema; nothing is left behind.
function alter.inspect(conn, def)
  local copies = alter.copies(conn, def)
  return ddl.with_scratch(conn, {enums = def.enums, copies = copies}, "alter_ddl", function()
    local before = {}
    for _, c in ipairs(copies) do before[c.name] = state(conn, c.name) end
    conn:exec(def.alter_ddl)
    local out = {}
    for _, c in ipairs(copies) do
      local b, a = before[c.name], state(conn, c.name)
      local t = {name = c.name, add = {}, indexes = {}, constraints = {}, not_null = {}}
      for _, col in ipairs(a.order) do
        local ac, bc = a.columns[col], b.columns[col]
        if not bc then
          -- NOT NULL without a default cannot be added to rows that exist: nullable first
          t.add[#t.add + 1] = {name = col, type = ac.type, default = ac.default, not_null = ac.not_null and ac.default ~= nil}
        elseif ac.type ~= bc.type or ac.default ~= bc.default then
          error("alter_ddl: " .. c.name .. "." .. col .. ": changing an existing column's type or default is not supported", 0)
        end
        if ac.not_null and not (bc and bc.not_null) and not (not bc and ac.default ~= nil) then
          t.not_null[#t.not_null + 1] = {column = col, proof = proof_name(c.name, col)}
        end
      end
      for name, i in pairs(a.indexes) do
        if not b.indexes[name] then
          if i.owned then error("alter_ddl: " .. c.name .. ": ADD CONSTRAINT … UNIQUE/PRIMARY KEY is not supported;"
            .. " write CREATE UNIQUE INDEX " .. name, 0) end
          t.indexes[#t.indexes + 1] = i
        end
      end
      for name, k in pairs(a.constraints) do
        if not b.constraints[name] and not a.indexes[name] then
          if k.kind ~= "f" and k.kind ~= "c" then error("alter_ddl: " .. c.name .. ": constraint " .. name .. " not supported", 0) end
          t.constraints[#t.constraints + 1] = k
        end
      end
      table.sort(t.indexes, function(x, y) return x.name < y.name end)
      table.sort(t.constraints, function(x, y) return x.name < y.name end)
      out[#out + 1] = t
    end
    return out
  end)
end

local function columns_of(conn, t)
  local have = {}
  for _, c in ipairs(conn:query([[SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull FROM pg_attribute
      WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped]], qi(t))) do
    have[c.attname] = c
  end
  return have
end

--- target_compatible for existing tables: a column alter_ddl adds that exists already has its type.
function alter.compatible(conn, info)
  local bad = {}
  for _, t in ipairs(info) do
    local have = columns_of(conn, t.name)
    for _, c in ipairs(t.add) do
      if have[c.name] and have[c.name].type ~= c.type then
        bad[#bad + 1] = string.format('%s."%s" is %s, expected %s', t.name, c.name, have[c.name].type, c.type)
      end
    end
  end
  if #bad > 0 then return false, table.concat(bad, "; ") end
  return true, "the columns alter_ddl adds are absent or have the declared types"
end

--- The precondition enum_compatible: each declared enum type is absent or has exactly the declared
--- labels in that order (a type with other labels is never dropped: the run is refused).
function alter.enums_compatible(conn, enums)
  local bad, names = {}, {}
  for name in pairs(enums) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local found = conn:scalar([[SELECT array_to_string(array_agg(e.enumlabel ORDER BY e.enumsortorder), ', ')
        FROM pg_enum e WHERE e.enumtypid = to_regtype($1)]], qi(name))
    local kind = conn:scalar("SELECT t.typtype::text FROM pg_type t WHERE t.oid = to_regtype($1)", qi(name))
    local wanted = table.concat(enums[name], ", ")
    if kind ~= nil and kind ~= db.NULL and kind ~= "e" then
      bad[#bad + 1] = string.format("type %s exists and is not an enum; wanted ENUM (%s)", name, wanted)
    elseif found ~= nil and found ~= db.NULL and found ~= wanted then
      bad[#bad + 1] = string.format("enum %s has labels (%s); wanted (%s)", name, found, wanted)
    end
  end
  if #bad > 0 then return false, table.concat(bad, "; ") .. " (refused: a type with other labels is never dropped)" end
  return true, "each enum type is absent or has the declared labels"
end

--- Setup: the declared enum types that are missing.
function alter.create_enums(conn, enums)
  local names = {}
  for name in pairs(enums or {}) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    if conn:scalar("SELECT to_regtype($1) IS NULL", qi(name)) then conn:exec(ddl.enum_sql(nil, name, enums[name])) end
  end
end

--- Setup: the columns alter_ddl adds that are missing, one ALTER TABLE per table that lacks some.
function alter.setup(conn, info)
  for _, t in ipairs(info) do
    local have, parts = columns_of(conn, t.name), {}
    for _, c in ipairs(t.add) do
      if not have[c.name] then
        parts[#parts + 1] = "ADD COLUMN " .. qi(c.name) .. " " .. c.type .. (c.default and (" DEFAULT " .. c.default) or "")
          .. (c.not_null and " NOT NULL" or "")
      end
    end
    if #parts > 0 then conn:exec("ALTER TABLE " .. qi(t.name) .. " " .. table.concat(parts, ", ")) end
  end
end

local function index_state(conn, name)
  local r = conn:query([[SELECT x.indisvalid FROM pg_index x WHERE x.indexrelid = to_regclass($1)]], qi(name))[1]
  if not r then return nil end
  return r.indisvalid and "valid" or "invalid"
end

local function constraint_state(conn, t, name)
  local r = conn:query("SELECT convalidated FROM pg_constraint WHERE conrelid = to_regclass($1) AND conname = $2",
    qi(t), name)[1]
  if not r then return nil end
  return r.convalidated and "valid" or "not valid"
end

--- Online: the indexes, constraints and NOT NULL proofs that are missing, each in its own
--- transaction (`run(what, fn)` runs one, retrying on a lock timeout; inside a dry run it nests).
--- Returns the statements run.
function alter.online(conn, info, run)
  local ran = {}
  local function exec(what, sql, tx)
    run(what, function()
      if tx and conn:in_tx() == 0 then conn:tx(function() conn:exec(sql) end) else conn:exec(sql) end
    end)
    ran[#ran + 1] = sql
  end
  for _, t in ipairs(info) do
    local qt = qi(t.name)
    for _, i in ipairs(t.indexes) do
      local concurrently = conn:in_tx() == 0 and " CONCURRENTLY" or ""
      if index_state(conn, i.name) == "invalid" then   -- an interrupted concurrent build
        exec("drop invalid index " .. i.name, "DROP INDEX" .. concurrently .. " " .. qi(i.name), false)
      end
      if not index_state(conn, i.name) then
        exec("index " .. i.name, "CREATE " .. (i.unique and "UNIQUE " or "") .. "INDEX" .. concurrently .. " "
          .. qi(i.name) .. " ON " .. qt .. " " .. i.using, false)
      end
    end
    local checks = {}
    for _, k in ipairs(t.constraints) do checks[#checks + 1] = {name = k.name, def = k.def} end
    local have = columns_of(conn, t.name)
    for _, n in ipairs(t.not_null) do
      if not (have[n.column] and have[n.column].attnotnull) then
        checks[#checks + 1] = {name = n.proof, def = "CHECK (" .. qi(n.column) .. " IS NOT NULL)"}
      end
    end
    for _, k in ipairs(checks) do
      if not constraint_state(conn, t.name, k.name) then
        exec("constraint " .. k.name, "ALTER TABLE " .. qt .. " ADD CONSTRAINT " .. qi(k.name) .. " " .. k.def .. " NOT VALID", true)
      end
      if constraint_state(conn, t.name, k.name) == "not valid" then
        exec("validate " .. k.name, "ALTER TABLE " .. qt .. " VALIDATE CONSTRAINT " .. qi(k.name), true)
      end
    end
  end
  return ran
end

--- Switch (in the finalize transaction): SET NOT NULL where a validated proof exists, then the
--- proofs are dropped (a separate statement: dropped in the same one, the proof would be gone
--- before PostgreSQL looks for it, and it would scan the table).
function alter.switch(conn, info)
  for _, t in ipairs(info) do
    local have, set, drop = columns_of(conn, t.name), {}, {}
    for _, n in ipairs(t.not_null) do
      if have[n.column] and not have[n.column].attnotnull then set[#set + 1] = "ALTER COLUMN " .. qi(n.column) .. " SET NOT NULL" end
      if constraint_state(conn, t.name, n.proof) then drop[#drop + 1] = "DROP CONSTRAINT " .. qi(n.proof) end
    end
    if #set > 0 then conn:exec("ALTER TABLE " .. qi(t.name) .. " " .. table.concat(set, ", ")) end
    if #drop > 0 then conn:exec("ALTER TABLE " .. qi(t.name) .. " " .. table.concat(drop, ", ")) end
  end
end

--- Rollback: the NOT NULL proofs an interrupted run left (on columns the rollback kept).
function alter.cleanup(conn, info)
  for _, t in ipairs(info) do
    for _, n in ipairs(t.not_null) do
      if conn:scalar("SELECT to_regclass($1) IS NOT NULL", qi(t.name)) and constraint_state(conn, t.name, n.proof) then
        conn:exec("ALTER TABLE " .. qi(t.name) .. " DROP CONSTRAINT " .. qi(n.proof))
      end
    end
  end
end

return alter
