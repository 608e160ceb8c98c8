-- mighost.mig_privileges: the precondition `privileges`. From the declaration alone it derives
-- what the run's role must be allowed to do — create mig_meta and the backup schema (or use
-- them), read every source, reference and backup table, write every target, create the targets
-- that do not exist yet, own the tables alter_ddl changes — and refuses the run before anything
-- is written when one is missing, naming each privilege and its object. A role that may do
-- everything passes; a superuser passes at once.
local schema = require "mighost.schema"

local M = {}

local TABLE_PRIVS = {"SELECT", "INSERT", "UPDATE", "DELETE"}

--- The needs of one connection, keyed by relation name: {name = {SELECT = true, ...}}.
local function need(needs, conn_name, rel, ...)
  if type(rel) ~= "string" or rel == "" then return end
  local by_conn = needs[conn_name] or {order = {}, rels = {}}
  needs[conn_name] = by_conn
  local privs = by_conn.rels[rel]
  if not privs then
    privs = {}
    by_conn.rels[rel] = privs
    by_conn.order[#by_conn.order + 1] = rel
  end
  for _, p in ipairs({...}) do privs[p] = true end
end

--- What the declared phases, backups and DDL need, per connection name.
function M.needs(def)
  local needs = {}
  local ledger = def.ledger
  for _, t in ipairs(def.backup or {}) do need(needs, ledger, t, "SELECT") end
  for _, m in ipairs(def.mapped or {}) do
    if m.source_table then need(needs, m.from, m.source_table, "SELECT") end
    local function target(t)
      need(needs, ledger, t.target, "SELECT", t.update and "UPDATE" or "INSERT")   -- updates go through UPDATE … FROM
      for _, r in ipairs(t.refs or {}) do need(needs, ledger, r.table, "SELECT") end
    end
    target(m)
    for _, a in ipairs(m.also or {}) do target(a) end
    if m.audit then need(needs, ledger, m.audit.table, "INSERT") end
  end
  return needs
end

local function missing_table_privs(conn, rel, privs, out)
  local oid = conn:scalar("SELECT to_regclass($1)::oid", schema.qualify(rel))
  if oid == nil or oid == require("mighost.db").NULL then
    -- created by the run: it needs CREATE where it will go (the search path's first schema)
    local sch = schema.split(rel) or conn:scalar("SELECT current_schema()")
    if type(sch) ~= "string" then return end   -- no schema yet: the run creates it (CREATE on the database, below)
    if conn:scalar("SELECT to_regnamespace($1) IS NOT NULL", require("mighost.db").quote_ident(sch))
       and not conn:scalar("SELECT has_schema_privilege($1, 'CREATE')", sch) then
      out[#out + 1] = string.format("CREATE on schema %s (to create table %s)", sch, rel)
    end
    return
  end
  for _, p in ipairs(TABLE_PRIVS) do
    if privs[p] and not conn:scalar("SELECT has_table_privilege($1::oid, $2)", oid, p) then
      out[#out + 1] = string.format("%s on table %s", p, rel)
    end
  end
end

--- mig_meta and the in-database backup schema: created (CREATE on the database) or used.
local function missing_schema_privs(conn, names, out)
  local need_db = {}
  for _, s in ipairs(names) do
    if not conn:scalar("SELECT to_regnamespace($1) IS NOT NULL", require("mighost.db").quote_ident(s)) then
      need_db[#need_db + 1] = "schema " .. s
    else
      for _, p in ipairs({"USAGE", "CREATE"}) do
        if not conn:scalar("SELECT has_schema_privilege($1, $2)", s, p) then
          out[#out + 1] = string.format("%s on schema %s", p, s)
        end
      end
      for r in conn:rows([[SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY c.relname]], s) do
        for _, p in ipairs(TABLE_PRIVS) do
          if not conn:scalar("SELECT has_table_privilege($1::oid, $2)", r.oid, p) then
            out[#out + 1] = string.format("%s on table %s.%s", p, s, r.relname)
          end
        end
      end
    end
  end
  if #need_db > 0 and not conn:scalar("SELECT has_database_privilege(current_database(), 'CREATE')") then
    out[#out + 1] = string.format("CREATE on database %s (to create %s)", conn:scalar("SELECT current_database()"),
      table.concat(need_db, " and "))
  end
end

--- The tables alter_ddl changes (its backup tables) must be owned by the role (ALTER TABLE).
local function missing_ownership(conn, def, out)
  if not def.alter_ddl then return end
  for _, t in ipairs(def.backup or {}) do
    local owned = conn:scalar([[SELECT pg_has_role(c.relowner, 'USAGE') FROM pg_class c
                                 WHERE c.oid = to_regclass($1)]], schema.qualify(t))
    if owned == false then out[#out + 1] = string.format("ownership of table %s (alter_ddl alters it)", t) end
  end
end

--- The precondition's check: true, or false and the missing privileges, each named.
function M.check(ctx, def)
  local conns = ctx.conn
  local ledger = conns[def.ledger]
  if ledger:scalar("SELECT rolsuper FROM pg_roles WHERE rolname = current_user") == true then
    return true, "superuser"
  end
  local out = {}
  local schemas = {"mig_meta"}
  if def.backup_copy and #(def.backup or {}) > 0 then schemas[2] = "mig_backup_" .. def.name end
  missing_schema_privs(ledger, schemas, out)
  local needs = M.needs(def)
  for conn_name, by_conn in pairs(needs) do
    local conn = conns[conn_name]
    if conn then
      for _, rel in ipairs(by_conn.order) do missing_table_privs(conn, rel, by_conn.rels[rel], out) end
    end
  end
  missing_ownership(ledger, def, out)
  if #out == 0 then return true, "role " .. tostring(ledger:scalar("SELECT current_user")) .. " has every privilege the declaration needs" end
  return false, string.format("role %s lacks %s", tostring(ledger:scalar("SELECT current_user")), table.concat(out, "; "))
end

return M
