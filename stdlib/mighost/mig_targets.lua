-- mighost.mig_targets: what a declaration's target DDL adds to a migration — the setup that
-- creates the declared enums, tables (mig_ddl) and alter_ddl columns (mig_alter), the finalize that
-- builds the new tables' secondary indexes and foreign keys after the rows, the lock-safe online /
-- switch steps of alter_ddl, and the target_compatible / enum_compatible preconditions.
local targets = {}

--- The scratch schema's setup for reading target_ddl: the declared enums, and with alter_ddl
--- empty copies of the tables it changes (so a new table's foreign key to one of them locks
--- nothing while it is read).
local function scratch_opts(def, conn)
  return {enums = def.enums, copies = def.alter_ddl and require("mighost.mig_alter").copies(conn, def) or nil}
end

--- target_compatible: the declared tables that exist have the declared columns and types, the
--- columns alter_ddl adds that exist have theirs, and each insert target has a unique index on
--- the key its rows are matched by. enum_compatible: the declared enums are absent or equal.
function targets.precondition(def)
  if def.enums then
    def.preconditions[#def.preconditions + 1] = {name = "enum_compatible", check = function(ctx)
      return require("mighost.mig_alter").enums_compatible(ctx.db, def.enums)
    end}
  end
  if not def.target_ddl and not def.alter_ddl and #def.mapped == 0 then return end
  def.preconditions[#def.preconditions + 1] = {name = "target_compatible", check = function(ctx)
    if def.enums and not require("mighost.mig_alter").enums_compatible(ctx.db, def.enums) then
      return false, "the declared enum types are not compatible (see enum_compatible)"
    end
    local ok, detail = true, "no declared target exists yet"
    if def.target_ddl then
      ok, detail = require("mighost.mig_ddl").compatible(ctx.db, def.target_ddl, scratch_opts(def, ctx.db),
        def.target_columns == "exact")
    end
    if ok and def.alter_ddl then
      local aok, adetail = require("mighost.mig_alter").compatible(ctx.db, require("mighost.mig_alter").inspect(ctx.db, def))
      ok, detail = aok, aok and (detail .. "; " .. adetail) or adetail
    end
    for _, m in ipairs(def.mapped) do
      local kok, kdetail = m:key_unique(ctx)
      if not kok then return false, kdetail end
    end
    return ok, detail
  end}
end

--- The tables the declared phases write (their targets and audit tables): mig_ddl.setup defers
--- only their secondary indexes and foreign keys.
local function loaded_tables(def)
  local out = {}
  for _, m in ipairs(def.mapped) do
    out[m.target] = true
    if m.audit then out[m.audit.table] = true end
  end
  return out
end

--- setup creates the declared enums, target tables (mig_ddl.setup) and the columns alter_ddl
--- adds, then runs the script's setup; finalize adds the new tables' secondary indexes and
--- foreign keys before the script's own finalize. With alter_ddl, `online` (after the rows,
--- before finalize) and `switch` (in finalize, after the checks that do not need it) apply the
--- rest lock-safely (mig_alter).
targets.CREATED = "~created_tables"   -- the key of mig_meta.runs.checkpoint that lists them (mig_keys reads it)
local CREATED = targets.CREATED

function targets.wrap_ddl(src, def)
  def.setup, def.finalize = src.setup, src.finalize
  if not def.target_ddl and not def.alter_ddl and not def.enums then return end
  local setup, finalize = src.setup, src.finalize
  local alter = require "mighost.mig_alter"
  local function info(ctx)
    return ctx._run:memo("alter_info", function() return alter.inspect(ctx.db, def) end)
  end
  def.setup = function(ctx)
    -- everything read before the first statement that locks an existing table, so that those
    -- locks are held only from the new tables (a foreign key to an existing table) and the new
    -- columns to the commit
    if def.alter_ddl then info(ctx) end
    alter.create_enums(ctx.db, def.enums)
    local created = {}
    if def.target_ddl then
      created = require("mighost.mig_ddl").setup(ctx.db, def.target_ddl, scratch_opts(def, ctx.db), loaded_tables(def))
    end
    -- the tables this migration created, also in an earlier run that did not finish: the lint
    -- judges statements on them as on a new table (nobody else uses it yet)
    local cp = ctx._run.ledger:previous_checkpoint(CREATED)
    for _, t in ipairs(type(cp) == "table" and cp or {}) do
      local seen = false
      for _, c in ipairs(created) do seen = seen or c == t end
      if not seen then created[#created + 1] = t end
    end
    local quoted = {}   -- catalog names: to_regclass reads SQL, so each is quoted
    for i, t in ipairs(created) do quoted[i] = require("mighost.db").quote_ident(t) end
    ctx.db:lint_new_tables(quoted)
    if ctx.run_id and #created > 0 then
      ctx._run.ledger:set_phase_checkpoint(CREATED, require("mighost.mig_json").array(created))
    end
    require("mighost.mig_keys").resume(ctx._run)
    if def.alter_ddl then alter.setup(ctx.db, info(ctx)) end
    if setup then setup(ctx) end
  end
  def.finalize = function(ctx)
    if def.target_ddl then require("mighost.mig_ddl").complete(ctx.db, def.target_ddl, scratch_opts(def, ctx.db)) end
    if finalize then finalize(ctx) end
  end
  def.online = function(ctx, run)
    if def.target_ddl then require("mighost.mig_ddl").add_foreign_keys(ctx.db, def.target_ddl, scratch_opts(def, ctx.db), run) end
    if def.alter_ddl then alter.online(ctx.db, info(ctx), run) end
  end
  if def.alter_ddl then
    def.switch = function(ctx) alter.switch(ctx.db, info(ctx)) end
    def.rollback_cleanup = function(ctx) alter.cleanup(ctx.db, info(ctx)) end
  end
end

return targets
