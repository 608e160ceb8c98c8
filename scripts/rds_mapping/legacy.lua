-- rds_mapping.legacy: the legacy TraceTrack schema as installations vary (spec §1's alias table),
-- resolved against the live catalog of the source, and the SQL of each target value over the
-- legacy row `s` (shared by the phases and by the checks' derivation from the source snapshot).
local db = require "mighost.db"
local schema = require "mighost.schema"

local L = {}
local qi = db.quote_ident

-- Processing order (§3); the first three are required.
L.ORDER = {"user", "bag", "bill", "scan", "link", "bill_bag", "promotionrequest", "audit_log"}
L.REQUIRED = {user = true, bag = true, scan = true}

-- Per target table, its columns in §2's order: {name, aliases in precedence order (the target name
-- first), target type, required = refuse when no alias exists, as_text = the alias `id` read as text}.
-- bill.total_weight_kg has no legacy column: it is computed after all tables.
local INT, TEXT, VARCHAR, BOOL, TS, FLOAT = "integer", "text", "character varying", "boolean",
  "timestamp without time zone", "double precision"
L.COLUMNS = {
  user = {{"id", {"id"}, INT, required = true}, {"username", {"username", "name"}, VARCHAR, required = true},
          {"email", {"email"}, TEXT}, {"password_hash", {"password_hash", "password"}, TEXT}, {"role", {"role"}, VARCHAR},
          {"dispatch_area", {"dispatch_area", "area"}, TEXT}, {"verified", {"verified"}, BOOL},
          {"created_at", {"created_at"}, TS}},
  bag = {{"id", {"id"}, INT, required = true}, {"qr_id", {"qr_id", "qr_code", "id"}, VARCHAR}, {"type", {"type"}, VARCHAR},
         {"name", {"name", "bag_name"}, TEXT}, {"child_count", {"child_count", "children_count"}, INT},
         {"parent_id", {"parent_id", "parent_bag_id"}, INT}, {"user_id", {"user_id", "owner_id"}, INT},
         {"dispatch_area", {"dispatch_area", "area"}, TEXT}, {"status", {"status"}, TEXT},
         {"weight_kg", {"weight_kg", "weight"}, FLOAT}, {"created_at", {"created_at"}, TS}},
  bill = {{"id", {"id"}, INT, required = true}, {"bill_id", {"bill_id"}, VARCHAR, required = true},
          {"description", {"description"}, TEXT}, {"parent_bag_count", {"parent_bag_count"}, INT},
          {"total_weight_kg", {}, FLOAT}, {"status", {"status"}, TEXT}, {"created_by_id", {"created_by_id"}, INT},
          {"created_at", {"created_at"}, TS}},
  scan = {{"id", {"id"}, INT, required = true}, {"timestamp", {"timestamp", "created_at"}, TS, required = true},
          {"parent_bag_id", {"parent_bag_id", "parent_id"}, INT}, {"child_bag_id", {"child_bag_id", "child_id"}, INT},
          {"user_id", {"user_id", "scanner_id"}, INT}},
  link = {{"id", {"id"}, INT, required = true}, {"parent_bag_id", {"parent_bag_id"}, INT, required = true},
          {"child_bag_id", {"child_bag_id"}, INT, required = true}, {"user_id", {"user_id"}, INT},
          {"created_at", {"created_at"}, TS}},
  bill_bag = {{"id", {"id"}, INT, required = true}, {"bill_id", {"bill_id"}, INT, required = true},
              {"bag_id", {"bag_id"}, INT, required = true}, {"created_at", {"created_at"}, TS}},
  promotionrequest = {{"id", {"id"}, INT, required = true}, {"user_id", {"user_id"}, INT},
                      {"requested_role", {"requested_role"}, VARCHAR}, {"reason", {"reason"}, TEXT},
                      {"status", {"status"}, VARCHAR}, {"admin_id", {"admin_id"}, INT},
                      {"admin_notes", {"admin_notes"}, TEXT}, {"requested_at", {"requested_at"}, TS},
                      {"processed_at", {"processed_at"}, TS}},
  audit_log = {{"id", {"id"}, INT, required = true}, {"timestamp", {"timestamp"}, TS}, {"user_id", {"user_id"}, INT},
               {"action", {"action"}, TEXT, required = true}, {"entity_type", {"entity_type"}, TEXT},
               {"entity_id", {"entity_id"}, INT}, {"details", {"details"}, TEXT}, {"ip_address", {"ip_address"}, TEXT}},
}
L.COLUMNS.bag[2].as_text = true   -- bag.qr_id falls back to the bag's id as text

local TYPNAME = {[INT] = "int4", [TEXT] = "text", [VARCHAR] = "varchar", [BOOL] = "bool", [TS] = "timestamp",
                 [FLOAT] = "float8"}

--- Resolves every table against the source's catalog (the session's search_path is
--- --source-schema): which legacy table is present, which legacy column feeds each target column
--- (the first alias present), which required ones are missing and which legacy columns match no
--- alias. Plain data (JSON-able).
function L.resolve(conn)
  local res = {absent = {}, missing = {}, unmapped = {}, tables = {}}
  for _, t in ipairs(L.ORDER) do
    local legacy = schema.columns(conn, t)
    local r = {present = legacy ~= nil, columns = {}, legacy = {}}
    res.tables[t] = r
    if not legacy then res.absent[#res.absent + 1] = t end
    local by_name, known = {}, {}
    for _, c in ipairs(legacy or {}) do
      by_name[c.name] = c
      r.legacy[#r.legacy + 1] = c.name
    end
    for _, col in ipairs(L.COLUMNS[t]) do
      local name, aliases, ttype = col[1], col[2], col[3]
      for _, a in ipairs(aliases) do known[a] = true end
      if not legacy then  -- an empty relation with the canonical names stands in for the table
        if #aliases > 0 then r.columns[name] = {alias = name, type = TYPNAME[ttype] or ttype} end
      else
        for _, a in ipairs(aliases) do
          local c = by_name[a]
          if c then
            r.columns[name] = {alias = a, type = c.type_name, as_text = col.as_text and a == "id" or nil}
            break
          end
        end
        if not r.columns[name] and col.required and (L.REQUIRED[t] or legacy) then
          res.missing[#res.missing + 1] = t .. "." .. name .. " (aliases: " .. table.concat(aliases, ", ") .. ")"
        end
      end
    end
    for _, c in ipairs(legacy or {}) do
      if not known[c.name] then
        res.unmapped[t] = res.unmapped[t] or {}
        table.insert(res.unmapped[t], c.name)
      end
    end
  end
  return res
end

--- The source relation of table t: the legacy table, or (absent) an empty relation with the
--- canonical columns, so that every phase and check runs the same way.
function L.source(res, t)
  if res.tables[t].present then return "SELECT * FROM " .. qi(t) end
  local cols = {}
  for _, col in ipairs(L.COLUMNS[t]) do
    if #col[2] > 0 then cols[#cols + 1] = "NULL::" .. col[3] .. " AS " .. qi(col[1]) end
  end
  return "SELECT " .. table.concat(cols, ", ") .. " WHERE false"
end

local function target_type(t, name)
  for _, col in ipairs(L.COLUMNS[t]) do
    if col[1] == name then return col[3] end
  end
end

--- The legacy value feeding target column t.name over alias s, cast to the target's type when the
--- legacy type differs (numbers and booleans are cast, §1); nil when no alias exists.
function L.value(res, t, name)
  local c = res.tables[t].columns[name]
  if not c then return nil end
  local e = "s." .. qi(c.alias)
  if c.as_text then return e .. "::text" end
  local want = target_type(t, name)
  if c.type ~= TYPNAME[want] then e = "CAST(" .. e .. " AS " .. want .. ")" end
  return e
end

--- "Trim-empty" (§3): NULL or blank.
function L.trim_empty(e) return "(" .. e .. " IS NULL OR btrim(" .. e .. ") = '')" end

local function or_default(e, default) return e or default end
local function coalesce(e, default) return e and ("COALESCE(" .. e .. ", " .. default .. ")") or default end

--- The SQL of every target column of table t over the legacy row s (§3's values; references are
--- the legacy value, kept or nulled by the reference rule over the target).
function L.values(res, t)
  local function v(name) return L.value(res, t, name) end
  local out = {}
  for _, col in ipairs(L.COLUMNS[t]) do out[col[1]] = or_default(v(col[1]), "NULL") end
  if t == "user" then
    local pw, role = v("password_hash"), v("role")
    out.password_hash = pw and ("CASE WHEN " .. L.trim_empty(pw) .. " THEN '!' ELSE " .. pw .. " END") or "'!'"
    out.role = role and ("CASE WHEN lower(btrim(" .. role .. ")) IN ('admin', 'biller', 'dispatcher') THEN lower(btrim("
      .. role .. ")) ELSE 'dispatcher' END") or "'dispatcher'"
    out.verified = coalesce(v("verified"), "false")
  elseif t == "bag" then
    local ty, parent = v("type"), v("parent_id")
    local by_parent = parent and ("CASE WHEN " .. parent .. " IS NOT NULL THEN 'child' ELSE 'parent' END") or "'parent'"
    out.type = ty and ("CASE WHEN lower(btrim(" .. ty .. ")) IN ('parent', 'child') THEN lower(btrim(" .. ty .. ")) ELSE "
      .. by_parent .. " END") or by_parent
    out.child_count = coalesce(v("child_count"), "0")
    out.status = coalesce(v("status"), "'pending'")
    out.weight_kg = coalesce(v("weight_kg"), "0")
  elseif t == "bill" then
    out.parent_bag_count = coalesce(v("parent_bag_count"), "0")
    out.status = coalesce(v("status"), "'new'")
    out.total_weight_kg = "0"   -- Σ bag.weight_kg, set in finalize once every bill_bag row is in
  elseif t == "promotionrequest" then
    out.status = coalesce(v("status"), "'pending'")
  end
  return out
end

--- The text of one resolved column for people: "<- qr_code", "<- id (as text)", "= 'pending' (no legacy column)".
function L.describe(res, t, name, value_sql)
  local c = res.tables[t].columns[name]
  if not res.tables[t].present then return "(table absent: no rows)" end
  if c then return "<- " .. c.alias .. (c.as_text and " (as text)" or "") end
  if name == "total_weight_kg" then return "= sum of its bags' weight_kg (after all tables)" end
  return "= " .. value_sql .. " (no legacy column)"
end

return L
