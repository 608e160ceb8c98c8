-- mighost.mig_keys: a new table's primary key built after its rows, the way pg_restore and
-- pgloader load a table: one sort over all rows instead of a B-tree insertion per row.
--
-- Only where no row can be lost or doubled while the key is missing:
--   * a declared, set-based insert phase is the only writer of the table (no Lua of the script's
--     own, no `also`, queue, audit or derived rows, no reference rule into the table itself);
--   * the run created the table (mig_targets' ~created_tables), it is still empty and every
--     source row is pending, so the batches insert without ON CONFLICT anyway;
--   * the source is a table with a unique index on columns the key copies unchanged (map
--     `s.col`, same type, no reference rule on them), so no duplicate key can arrive; NOT NULL
--     stays on the key's columns;
--   * no foreign key references the table yet.
-- The key is dropped when the phase starts, recorded in the run's checkpoint, and added again
-- under its declared name when the phase ends, stops or fails. A run that died before that
-- leaves it in the checkpoint, and the next run's setup adds it before any phase.
local db = require "mighost.db"
local log = require "mighost.log"
local sys = require "mighost.sys"
local schema = require "mighost.schema"
local json = require "mighost.mig_json"

local keys = {}

keys.CHECKPOINT = "~deferred_keys"   -- the key of mig_meta.runs.checkpoint that lists them

--- What the declaration alone says: m may load its table without the key.
local function declared_only_writer(m)
  local def = m.def
  if not def.target_ddl or def.scripted_writes or not m.source_table then return false end
  if m.update or m.streamed or m.piped or m.queue or #(m.also or {}) > 0 or m.audit or m.after then return false end
  if m.derived then return false end
  for _, r in ipairs(m.refs) do
    if r.table == m.target then return false end
  end
  for _, o in ipairs(def.mapped) do
    if o ~= m then
      if o.target == m.target or (o.audit and o.audit.table == m.target) then return false end
      for _, a in ipairs(o.also or {}) do
        if a.target == m.target then return false end
      end
    end
  end
  return true
end

--- The source column that target column `col` copies unchanged (map "s.col", no reference rule
--- that could replace the value), or nil.
local function copied_from(m, col)
  local v = m.map[col]
  if type(v) ~= "string" then return nil end
  for _, r in ipairs(m.refs) do
    if r.column == col then return nil end
  end
  return v:match('^%s*s%.([%a_][%w_$]*)%s*$') or v:match('^%s*s%."([^"]+)"%s*$')
end

local KEY_SQL = [[SELECT k.conname, pg_get_constraintdef(k.oid) AS def,
    (SELECT array_agg(a.attname::text ORDER BY u.n) FROM unnest(k.conkey) WITH ORDINALITY u(attnum, n)
       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum) AS cols
  FROM pg_constraint k WHERE k.conrelid = to_regclass($1) AND k.contype = 'p'
    AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.confrelid = k.conrelid)]]

local function col_type(conn, rel, col)
  local t = conn:scalar([[SELECT format_type(atttypid, atttypmod) FROM pg_attribute
      WHERE attrelid = to_regclass($1) AND attname = $2 AND attnum > 0 AND NOT attisdropped]], rel, col)
  return t ~= db.NULL and t or nil
end

--- True when the source has a unique index (no predicate, no expression) on some of `cols`.
local function source_unique(conn, rel, cols)
  return conn:scalar([[SELECT EXISTS (SELECT 1 FROM pg_index x WHERE x.indrelid = to_regclass($1)
      AND x.indisunique AND x.indisvalid AND x.indpred IS NULL AND x.indexprs IS NULL
      AND (SELECT bool_and(a.attname = ANY ($2::text[])) FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, n)
           JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum WHERE k.n <= x.indnkeyatts))]],
    rel, db.array(cols)) == true
end

local function listed(list, name)
  for _, v in ipairs(type(list) == "table" and list or {}) do
    if v == name or (type(v) == "table" and v.table == name) then return true end
  end
  return false
end

--- The target's primary key when this phase may build it after the rows ({table, name, def}), else nil.
local function deferrable(run, m, parts)
  if not declared_only_writer(m) then return nil end
  for _, p in ipairs(parts) do
    if not p.all_pending then return nil end
  end
  local conn, target = run.conn, schema.qualify(m.target)
  if not listed(run.ledger:phase_checkpoint(require("mighost.mig_targets").CREATED), m.target) then return nil end
  local k = conn:query(KEY_SQL, target)[1]
  if not k or type(k.cols) ~= "table" then return nil end
  local source, from = schema.qualify(m.source_table), {}
  for i, c in ipairs(k.cols) do
    from[i] = copied_from(m, c)
    if not from[i] or col_type(conn, source, from[i]) ~= col_type(conn, target, c) then return nil end
  end
  if not source_unique(conn, source, from) then return nil end
  if not conn:scalar("SELECT NOT EXISTS (SELECT 1 FROM " .. target .. ")") then return nil end
  return {table = m.target, name = k.conname, def = k.def}
end

local function record(run, list)
  if run:run_id() then run.ledger:set_phase_checkpoint(keys.CHECKPOINT, json.array(list)) end
end

--- At a keyset phase's start: drops the target's primary key when it may wait (see above), in a
--- transaction of its own. Returns the key to restore, or nil.
function keys.defer(run, m, parts)
  local k = deferrable(run, m, parts)
  if not k then return nil end
  run.conn:tx(function()
    run.conn:exec("ALTER TABLE " .. schema.qualify(k.table) .. " DROP CONSTRAINT " .. db.quote_ident(k.name))
    record(run, {k})
  end)
  log.info("%sphase %s: the primary key %s of %s is built after the rows", run:prefix(), m.name, k.name, k.table)
  return k
end

--- Adds the keys of `list` that their tables lack, each as declared. Returns the statements run.
local function add_missing(conn, list)
  local ran = {}
  for _, k in ipairs(type(list) == "table" and list or {}) do
    local qt = schema.qualify(k.table)
    local have = conn:scalar([[SELECT to_regclass($1) IS NULL OR EXISTS (SELECT 1 FROM pg_constraint
        WHERE conrelid = to_regclass($1) AND conname = $2)]], qt, k.name)
    if not have then
      local stmt = "ALTER TABLE " .. qt .. " ADD CONSTRAINT " .. db.quote_ident(k.name) .. " " .. k.def
      conn:exec(stmt)
      ran[#ran + 1] = stmt
    end
  end
  return ran
end

--- When the phase ends (done, stopped, at its limit or failing): adds the key back in a
--- transaction of its own. An error here (the key's rows are not unique after all) fails the run
--- with the key still listed, so the next run's setup tries again.
function keys.restore(run, k)
  local t0 = sys.now()
  run.conn:tx(function()
    add_missing(run.conn, {k})
    record(run, {})
  end)
  log.info("%s%s: primary key %s built (%.2f s)", run:prefix(), k.table, k.name, sys.now() - t0)
end

--- Setup: adds the keys an earlier run dropped and did not add back (it died mid-phase), so the
--- phases that resume find their ON CONFLICT arbiter.
function keys.resume(run)
  local list = run.ledger:previous_checkpoint(keys.CHECKPOINT)
  if type(list) ~= "table" or #list == 0 then return end
  for _, stmt in ipairs(add_missing(run.conn, list)) do
    log.info("%sadded the key an earlier run left out: %s", run:prefix(), stmt)
  end
  record(run, {})
end

--- True when an earlier run dropped `target`'s key and the next setup adds it (target_compatible).
function keys.pending(run, target)
  return listed(run.ledger:previous_checkpoint(keys.CHECKPOINT), target)
end

return keys
