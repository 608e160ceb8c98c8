-- Writes the psql anchor of tests/bench/rds_mapping_bench.sh into directory OUT (script args:
-- OUT, then the source and target URLs in $SRC and $TGT): per target table <t>.sql, the query
-- that gives the rows §3 says it must hold (scripts/rds_mapping/derive.lua, resolved for this
-- source's columns; one line, for \copy), and its columns; pre.sql (the script's target DDL, then
-- its secondary indexes and foreign keys dropped, as the script loads) and post.sql (them again,
-- then every sequence to max(id)).
local script = require "mighost.script"
local db = require "mighost.db"
package.path = script.dir .. "/../../scripts/?.lua;" .. package.path
local L = require "rds_mapping.legacy"
local D = require "rds_mapping.derive"
local DDL = require "rds_mapping.ddl"
local ddl = require "mighost.mig_ddl"

local out = assert(script.args[1], "usage: rds_mapping_anchor.lua OUT")
local src, tgt = db.connect(os.getenv("SRC")), db.connect(os.getenv("TGT"))
local function write(name, text)
  local f = assert(io.open(out .. "/" .. name, "w"))
  f:write(text, "\n")
  f:close()
end
local res = L.resolve(src)
for _, t in ipairs(L.ORDER) do
  write(t .. ".sql", (D.table_query(res, t):gsub("%s+", " ")))
  local cols = {}
  for _, col in ipairs(L.COLUMNS[t]) do cols[#cols + 1] = db.quote_ident(col[1]) end
  write(t .. ".cols", table.concat(cols, ", "))
end
local pre, post = {DDL}, {}
for _, t in ipairs(ddl.inspect(tgt, DDL)) do
  for _, o in ipairs(t.deferred) do
    if o.kind == "index" then
      pre[#pre + 1] = "DROP INDEX " .. db.quote_ident(o.name) .. ";"
      post[#post + 1] = "CREATE INDEX " .. db.quote_ident(o.name) .. " ON " .. db.quote_ident(t.name) .. " " .. o.using .. ";"
    else
      pre[#pre + 1] = "ALTER TABLE " .. db.quote_ident(t.name) .. " DROP CONSTRAINT " .. db.quote_ident(o.name) .. ";"
      post[#post + 1] = "ALTER TABLE " .. db.quote_ident(t.name) .. " ADD CONSTRAINT " .. db.quote_ident(o.name) .. " " .. o.def .. ";"
    end
  end
end
for _, t in ipairs(L.ORDER) do
  post[#post + 1] = string.format("SELECT setval(pg_get_serial_sequence('%s', 'id'), m) FROM (SELECT max(id) AS m FROM %s) x"
    .. " WHERE m IS NOT NULL;", db.quote_ident(t), db.quote_ident(t))
end
write("pre.sql", table.concat(pre, "\n"))
write("post.sql", table.concat(post, "\n"))
