-- rds_mapping.plan: this run's view of the install (the resolved aliases, printed and reported at
-- the start), spec §4's preconditions, the finalize step and §5's checks.
local db = require "mighost.db"
local sys = require "mighost.sys"
local json = require "mighost.mig_json"
local L = require "rds_mapping.legacy"
local D = require "rds_mapping.derive"

local P = {}
local qi = db.quote_ident

--- Prints and reports the resolved mapping: per target column the legacy column that feeds it or
--- the default used; WARN per unmapped legacy column.
local function announce(ctx, res)
  local mapping, keys = {}, {}
  for _, t in ipairs(L.ORDER) do
    keys[#keys + 1] = t
    local r = res.tables[t]
    if not r.present then
      ctx:say("MAPPING %s: no legacy table %s.%s; the target table is created empty", t, ctx.options.source_schema, t)
      mapping[t] = "absent"
    else
      local vals, cols, tmap = L.values(res, t), {}, {}
      for _, col in ipairs(L.COLUMNS[t]) do
        local name, c = col[1], r.columns[col[1]]
        cols[#cols + 1] = name
        ctx:say("MAPPING %s.%s %s", t, name, L.describe(res, t, name, vals[name]))
        tmap[name] = c and json.object({"from", "as_text"}, {from = c.alias, as_text = c.as_text})
          or {default = name == "total_weight_kg" and "sum of its bags' weight_kg" or vals[name]}
      end
      mapping[t] = json.object(cols, tmap)
    end
  end
  local unmapped = {}
  for _, t in ipairs(L.ORDER) do
    for _, c in ipairs(res.unmapped[t] or {}) do ctx:say("WARN unmapped column %s.%s", t, c) end
    if res.unmapped[t] then unmapped[t] = json.array(res.unmapped[t]) end
  end
  ctx:report("mapping", json.object(keys, mapping))
  ctx:report("unmapped_columns", unmapped)
  ctx:report("absent_tables", json.array(res.absent))
end

--- The resolution of this run (once, from the source snapshot's catalog).
function P.res(ctx)
  local sh = ctx.shared
  if not sh.rds_res then
    sh.rds_res = L.resolve(ctx.source)
    announce(ctx, sh.rds_res)
  end
  return sh.rds_res
end

--- The legacy tables present, in processing order (the JSON backup's keys).
function P.present(ctx)
  local out = {}
  for _, t in ipairs(L.ORDER) do
    if P.res(ctx).tables[t].present then out[#out + 1] = t end
  end
  return out
end

function P.announce(ctx) P.res(ctx) end

--- Early (before mig_meta is touched): source and target must not be one database and one schema,
--- or the new tables would be written over the legacy ones. The source session names itself in its
--- application_name; the target finds that backend among its own database's sessions.
function P.distinct_check(ctx)
  local src, tgt = ctx.source, ctx.target
  local tag = string.format("mighost:rds_mapping source %d.%d", sys.getpid(), src:backend_pid())
  src:exec("SELECT set_config('application_name', $1, false)", tag)
  local same = tgt:scalar([[SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND application_name = $2
      AND datname = current_database())]], src:backend_pid(), tag) == true
  local ss, ts = ctx.options.source_schema, ctx.options.target_schema
  local sdb, tdb = src:scalar("SELECT current_database()"), tgt:scalar("SELECT current_database()")
  if same and ss == ts then
    return false, string.format("source and target are the same database (%s) and the same schema (%s): the new"
      .. " tables would replace the legacy ones; give --target-schema or another --target-db", sdb, ss)
  end
  return true, string.format("source %s schema %s, target %s schema %s (%s)", sdb, ss, tdb, ts,
    same and "one database, two schemas" or "two databases")
end

function P.required_tables(ctx)
  local res, missing = P.res(ctx), {}
  for _, t in ipairs(L.ORDER) do
    if L.REQUIRED[t] and not res.tables[t].present then missing[#missing + 1] = '"' .. t .. '"' end
  end
  if #missing > 0 then
    return false, "schema " .. ctx.options.source_schema .. " has no table " .. table.concat(missing, ", ")
  end
  return true, '"user", bag and scan present; absent: ' .. (#res.absent > 0 and table.concat(res.absent, ", ") or "none")
end

function P.required_columns(ctx)
  local res = P.res(ctx)
  if #res.missing > 0 then return false, "no legacy column for " .. table.concat(res.missing, "; ") end
  return true, "every required column resolved"
end

--- Every present legacy table has an integer id, never NULL, unique.
function P.legacy_ids(ctx)
  local res, bad = P.res(ctx), {}
  for _, t in ipairs(L.ORDER) do
    local r = res.tables[t]
    local id = r.columns.id
    if r.present and id then
      if id.type ~= "int2" and id.type ~= "int4" and id.type ~= "int8" then
        bad[#bad + 1] = t .. ".id is " .. id.type .. ", not an integer"
      else
        local row = ctx.source:query("SELECT count(*) - count(id) AS nulls, count(id) - count(DISTINCT id) AS dups FROM "
          .. qi(t))[1]
        if tonumber(row.nulls) > 0 then bad[#bad + 1] = t .. ".id is NULL in " .. tostring(row.nulls) .. " rows" end
        if tonumber(row.dups) > 0 then bad[#bad + 1] = t .. ".id repeats (" .. tostring(row.dups) .. " extra rows)" end
      end
    end
  end
  if #bad > 0 then return false, table.concat(bad, "; ") end
  return true, "every present table has a unique integer id"
end

-- §3 "after all tables": Σ bag.weight_kg per bill (in bill_bag id order, so that a repeated run
-- adds the same doubles in the same order and writes nothing).
local BILL_WEIGHTS = [[UPDATE bill b SET total_weight_kg = w.total FROM (
    SELECT x.id, COALESCE(sum(g.weight_kg ORDER BY bb.id), 0) AS total FROM bill x
      LEFT JOIN bill_bag bb ON bb.bill_id = x.id LEFT JOIN bag g ON g.id = bb.bag_id GROUP BY x.id) w
  WHERE w.id = b.id AND b.total_weight_kg IS DISTINCT FROM w.total]]

--- Finalize (after the framework added the indexes and foreign keys): bill weights, then every
--- sequence moved to max(id) of its non-empty table.
function P.finalize(ctx)
  ctx:written("bill", ctx.db:exec(BILL_WEIGHTS))
  for _, t in ipairs(L.ORDER) do
    ctx.db:exec("SELECT setval(pg_get_serial_sequence($1, 'id'), x.m) FROM (SELECT max(id) AS m FROM " .. qi(t)
      .. ") x WHERE x.m IS NOT NULL", qi(t))
  end
end

--- The source-side derivation (fingerprints, nulled references), computed once per run.
local function derived(ctx)
  local sh = ctx.shared
  if not sh.rds_derived then
    -- one pass over whole tables: hash joins and sorts throughout (the planner, guessing one row
    -- for each filtered CTE, would loop over them); the settings end with their savepoint
    local row
    local _, err = pcall(ctx.source.tx, ctx.source, function()
      ctx.source:exec("SET LOCAL enable_nestloop = off")
      ctx.source:exec("SET LOCAL work_mem = '64MB'")   -- whole-table sorts and hashes in memory
      row = ctx.source:query(D.query(P.res(ctx)))[1]
      error("(done)", 0)
    end)
    if not row then error(err, 0) end
    local out = {}
    for k, v in pairs(row) do out[k] = v ~= db.NULL and v or "NULL" end
    sh.rds_derived = out
  end
  return sh.rds_derived
end

local function null_text(v) return (v == nil or v == db.NULL) and "NULL" or v end

local NO_DOUBLE = [[SELECT count(*) FROM mig_meta.rejects r WHERE r.migration='rds_mapping' AND EXISTS (SELECT 1 FROM (
  SELECT 'user' t, id FROM "user" UNION ALL SELECT 'bag', id FROM bag UNION ALL SELECT 'scan', id FROM scan
  UNION ALL SELECT 'link', id FROM link UNION ALL SELECT 'bill', id FROM bill UNION ALL SELECT 'bill_bag', id FROM bill_bag
  UNION ALL SELECT 'promotionrequest', id FROM promotionrequest UNION ALL SELECT 'audit_log', id FROM audit_log) m
  WHERE m.t = r.source_table AND m.id::text = r.source_key)]]

local BILL_WEIGHTS_CHECK = [[SELECT count(*) FROM bill b WHERE abs(b.total_weight_kg - COALESCE((SELECT sum(g.weight_kg)
  FROM bill_bag bb JOIN bag g ON g.id = bb.bag_id WHERE bb.bill_id = b.id), 0)) > 1e-6]]

local SEQUENCES_AHEAD = [[SELECT count(*) FROM (VALUES ('"user"'),('bag'),('scan'),('link'),('bill'),('bill_bag'),
  ('promotionrequest'),('audit_log')) v(t)
WHERE (xpath('/row/m/text()', query_to_xml(format('SELECT max(id) AS m FROM %s', v.t), false, true, '')))[1]::text::int
      > COALESCE((xpath('/row/l/text()', query_to_xml(format('SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END AS l FROM %s',
         pg_get_serial_sequence(v.t, 'id')), false, true, '')))[1]::text::bigint, 0)]]

--- §5's checks (counts_balance is the framework's).
function P.checks()
  local list = {}
  for _, t in ipairs(L.ORDER) do
    list[#list + 1] = {name = t .. "_accounted", needs = "complete", fn = function(ctx)
      local source = ctx.source:scalar("SELECT count(*) FROM (" .. L.source(P.res(ctx), t) .. ") s")
      local target = ctx.db:scalar("SELECT count(*) FROM " .. qi(t))
      local rejected = ctx.db:scalar([[SELECT count(*) FROM mig_meta.rejects WHERE migration = 'rds_mapping'
          AND source_table = $1]], t)
      return source - target - rejected
    end}
  end
  list[#list + 1] = {name = "no_double_resolution", sql = NO_DOUBLE}
  list[#list + 1] = {name = "bill_weights", needs = "finalize", sql = BILL_WEIGHTS_CHECK}
  list[#list + 1] = {name = "sequences_ahead", needs = "finalize", sql = SEQUENCES_AHEAD}
  list[#list + 1] = {name = "fixups_logged", needs = "complete", sql = D.FIXUPS_TARGET,
                     expected = function(ctx) return derived(ctx).fixups end}
  for _, t in ipairs(D.FINGERPRINTED) do
    list[#list + 1] = {name = t .. "_fingerprint", needs = "complete",
      fn = function(ctx) return null_text(ctx.db:scalar(D.fingerprint_sql(t, qi(t)))) end,
      expected = function(ctx) return derived(ctx)[t] end}
  end
  return list
end

return P
