-- mighost.mig_context: the `ctx` handed to a script's functions (reject, fixup, say, logging, the
-- set-based helpers), and the text form of values that keys, fixups and checks share.
local db = require "mighost.db"
local log = require "mighost.log"
local json = require "mighost.mig_json"

local context = {}

local ffi = require "ffi"
local int64_t, uint64_t = ffi.typeof("int64_t"), ffi.typeof("uint64_t")

--- The text form of a key or fixup value as PostgreSQL's ::text gives it for the usual key types.
function context.value_text(v)
  local t = type(v)
  if v == nil or v == db.NULL then return nil end
  if t == "string" then return v end
  if t == "boolean" then return v and "true" or "false" end
  if t == "number" then
    if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
    if v ~= v then return "NaN" end
    if v == math.huge then return "Infinity" elseif v == -math.huge then return "-Infinity" end
    -- the shortest digits that read back as the same double, as PostgreSQL prints a float8
    for digits = 15, 16 do
      local t = string.format("%." .. digits .. "g", v)
      if tonumber(t) == v then return t end
    end
    return string.format("%.17g", v)
  end
  if t == "cdata" and (ffi.istype(int64_t, v) or ffi.istype(uint64_t, v)) then
    return (tostring(v):gsub("[UL]+$", ""))
  end
  if t == "table" then return json.encode(v) end
  return tostring(v)
end

local Ctx = {}
Ctx.__index = Ctx

--- Counts rejects / fixups / rows written for another set into the running batch's tallies
--- (a mig_batch Tallies, set by Ctx:_begin_batch; none outside a phase or finalize: nothing is
--- tallied then).
local function tally(ctx, what, n, set)
  if ctx._tallies then ctx._tallies:add(what, n, set) end
end

--- A new ctx. Fields of o: def (the migration), values (options), conns (name -> connection),
--- ledger (the run's mig_ledger Ledger), dry_run, shared, worker, run (the mig_run Run, whose
--- source sets ctx:reject & co. look up). The public fields are documented in stdlib/README.md;
--- those starting with `_` belong to the framework.
function context.new_ctx(o)
  local def = o.def
  local ctx = setmetatable({
    name = def.name,
    options = o.values, opt = o.values,
    dry_run = o.dry_run or false,
    run_id = o.ledger.run_id,
    conn = o.conns,
    db = o.conns[def.ledger],
    shared = o.shared or {},
    worker = o.worker,
    log = log,
    _run = o.run, _def = def, _ledger = o.ledger,
  }, Ctx)
  for name, c in pairs(o.conns) do
    if ctx[name] == nil then ctx[name] = c end
  end
  return ctx
end

--- The batch (or finalize) whose tallies ctx:reject & co. count into from now on.
function Ctx:_begin_batch(tallies) self._tallies = tallies end

--- ctx.phase (the set ctx:reject & co. default to) and ctx.window of the running batch.
function Ctx:_set_phase(name) self.phase = name end
function Ctx:_set_window(w) self.window = w end

--- ctx.run_id, once the ledger row exists.
function Ctx:_set_run_id(id) self.run_id = id end

function Ctx:_end_batch() self._tallies, self.window = nil, nil end

--- The fields the script added with ctx:report ({keys, values}), or nil.
function Ctx:_report_fields() return self._report end

function Ctx:prefix() return self.dry_run and "[DRY RUN] " or "" end

--- Adds a top-level field to the JSON report file (after the framework's own fields, in the order
--- given; a second call with the same key replaces the value). value: any JSON-able Lua value.
function Ctx:report(key, value)
  local r = self._report
  if not r then
    r = {keys = {}, values = {}}
    self._report = r
  end
  if r.values[key] == nil then r.keys[#r.keys + 1] = key end
  r.values[key] = value
end

--- Prints one line on stdout (prefixed with [DRY RUN] in a dry run).
function Ctx:say(fmt, ...)
  local s = select("#", ...) > 0 and string.format(fmt, ...) or tostring(fmt)
  io.stdout:write(self:prefix(), s, "\n")
  io.stdout:flush()
end

function Ctx:info(fmt, ...) log.info(self:prefix() .. fmt, ...) end
function Ctx:warn(fmt, ...) log.warn(self:prefix() .. fmt, ...) end
function Ctx:debug(fmt, ...) log.debug(self:prefix() .. fmt, ...) end

local function set_of(ctx, set_name, what)
  local name = set_name or ctx.phase
  local rs = ctx._run:set(name)
  if not rs then
    error(string.format("ctx:%s: unknown source set '%s' (declare it in phases or sets)", what, tostring(name)), 3)
  end
  return rs
end

--- The key text of a row of a source set: key columns as text, composite keys joined with '|'.
function context.key_text(rs, row, what)
  if type(row) ~= "table" then return context.value_text(row) end
  local parts = {}
  for i, k in ipairs(rs.keys) do
    local v = row[k]
    if v == nil or v == db.NULL then
      error(string.format("%s: the row has no value for key column '%s' of source set '%s'", what, k, rs.name), 4)
    end
    parts[i] = context.value_text(v)
  end
  return table.concat(parts, "|")
end

--- Marks a source row rejected (mig_meta.rejects, inside the current batch transaction).
--- `row` is the source row (or its key text); `set` defaults to the current phase's set.
function Ctx:reject(row, code, detail, set)
  local rs = set_of(self, set, "reject")
  local key = context.key_text(rs, row, "ctx:reject")
  local same = rs.conn == self.db
  local row_json = nil
  if type(row) == "table" then
    local ok, j = pcall(json.encode, row)
    if ok then row_json = j end
  end
  -- row_data = to_jsonb(<source row>), looked up by key: the key columns compared with the row's
  -- own values (typed like the columns, so an index on the key serves), or by key text.
  local where, params = {}, {}
  local first = same and 8 or 1   -- ledger.reject binds $1..$7 itself
  if type(row) == "table" then
    for i, k in ipairs(rs.keys) do
      where[i] = "s." .. db.quote_ident(k) .. " = $" .. (first + i - 1)
      params[i] = row[k]
    end
  else
    where[1] = rs.keytext_sql .. " = $" .. first
    params[1] = key
  end
  local lookup = "SELECT to_jsonb(s) FROM (" .. rs.source_sql .. ") s WHERE " .. table.concat(where, " AND ") .. " LIMIT 1"
  if not same then
    local ok, j = pcall(rs.conn.scalar, rs.conn, "SELECT (" .. lookup .. ")::text", unpack(params, 1, #params))
    if ok and type(j) == "string" then row_json = j end
  end
  local n = self._ledger:reject({set = rs.name, key = key, reason = code,
    detail = detail ~= nil and context.value_text(detail) or nil, row_json = row_json,
    row_sql = same and lookup or nil, row_params = same and params or nil})
  tally(self, "rejects", n)
  return n
end

-- INSERT … SELECT of rejects / fixups rows from `sql` (insert if absent), shared by reject_rows,
-- fixup_rows and write_batch.
local function rejects_insert(ctx, rs, sql)
  return "INSERT INTO mig_meta.rejects (migration, source_table, source_key, reason, detail,"
    .. " row_data, run_id) SELECT " .. db.quote_literal(ctx.name) .. ", " .. db.quote_literal(rs.name)
    .. ", r.source_key, r.reason, r.detail, r.row_data, " .. (context.value_text(ctx.run_id) or "NULL")
    .. " FROM (" .. sql .. ") r ON CONFLICT (migration, source_table, source_key) DO NOTHING"
end

local function fixups_insert(ctx, rs, sql)
  return "INSERT INTO mig_meta.fixups (migration, source_table, source_key, field, rule,"
    .. " old_value, new_value, run_id) SELECT " .. db.quote_literal(ctx.name) .. ", " .. db.quote_literal(rs.name)
    .. ", f.source_key, f.field, f.rule, f.old_value, f.new_value, " .. (context.value_text(ctx.run_id) or "NULL")
    .. " FROM (" .. sql .. ") f ON CONFLICT (migration, source_table, source_key, field) DO NOTHING"
end

--- Set-based rejects: one INSERT … SELECT for many rows (insert if absent). `sql` (with its own
--- $n parameters `...`) returns the columns source_key (text), reason, detail and row_data (jsonb,
--- the source row). Returns the number of rejects inserted.
function Ctx:reject_rows(set, sql, ...)
  local n = self.db:exec(rejects_insert(self, set_of(self, set, "reject_rows"), sql), ...)
  tally(self, "rejects", n)
  return n
end

--- Logs a value the migration had to change (mig_meta.fixups, inside the batch transaction).
function Ctx:fixup(row, field, rule, old, new, set)
  local rs = set_of(self, set, "fixup")
  local n = self._ledger:fixup({set = rs.name, key = context.key_text(rs, row, "ctx:fixup"),
    field = field, rule = rule, old = context.value_text(old), new = context.value_text(new)})
  tally(self, "fixups", n)
  return n
end

--- Set-based fixups: one INSERT ... SELECT from `sql` (its own $n parameters), which returns
--- source_key, field, rule, old_value, new_value (text; insert if absent). Returns the rows inserted.
function Ctx:fixup_rows(set, sql, ...)
  local n = self.db:exec(fixups_insert(self, set_of(self, set, "fixup_rows"), sql), ...)
  tally(self, "fixups", n)
  return n
end

--- A whole set-based batch in ONE statement (data-modifying CTEs, so the batch's rows are read
--- once): spec.with = CTE definitions ("b AS MATERIALIZED (…)", optional), spec.rejects and
--- spec.fixups = SELECTs shaped as for reject_rows / fixup_rows (optional), spec.write = the
--- INSERT/UPDATE/DELETE of the target rows without RETURNING, or an array of them (optional),
--- spec.side = more such statements whose rows are not counted, spec.select = more output
--- columns ("expr AS name"), spec.returning (what a single write returns, as CTE __w) and
--- spec.after (a statement reading __w, e.g. audit rows); `...` = the $n parameters of the whole
--- statement. All parts see the same snapshot (they must not depend on each other's writes).
--- Tallies the rejects and fixups like reject_rows / fixup_rows; returns the rows written and the
--- statement's result row.
function Ctx:write_batch(spec, ...)
  local rs = set_of(self, spec.set, "write_batch")
  local ctes, counts = {}, {}
  if spec.with then ctes[#ctes + 1] = spec.with end
  local function part(name, sql)
    if sql then
      ctes[#ctes + 1] = name .. " AS (" .. sql .. " RETURNING 1)"
      counts[#counts + 1] = "(SELECT count(*) FROM " .. name .. ") AS " .. name
    else
      counts[#counts + 1] = "0::bigint AS " .. name
    end
  end
  part("__rejects", spec.rejects and rejects_insert(self, rs, spec.rejects))
  part("__fixups", spec.fixups and fixups_insert(self, rs, spec.fixups))
  local writes = type(spec.write) == "table" and spec.write or {spec.write}
  if spec.returning and type(spec.write) == "string" then
    -- the written rows as __w (spec.returning: their columns), read by spec.after (e.g. audit rows)
    ctes[#ctes + 1] = "__w AS (" .. spec.write .. " RETURNING " .. spec.returning .. ")"
    counts[#counts + 1] = "(SELECT count(*) FROM __w) AS __written"
    part("__after", spec.after)
  else
    part("__written", writes[1])
  end
  for i = 2, #writes do part("__written" .. i, writes[i]) end
  for i, w in ipairs(spec.side or {}) do ctes[#ctes + 1] = "__side" .. i .. " AS (" .. w .. " RETURNING 1)" end
  for _, c in ipairs(spec.select or {}) do counts[#counts + 1] = c end
  local r = self.db:query((#ctes > 0 and ("WITH " .. table.concat(ctes, ", ")) or "") .. " SELECT " .. table.concat(counts, ", "), ...)[1]
  tally(self, "rejects", tonumber(r.__rejects))
  tally(self, "fixups", tonumber(r.__fixups))
  local written = tonumber(r.__written)
  for i = 2, #writes do written = written + tonumber(r["__written" .. i]) end
  return written, r
end

--- A whole set-based batch as ONE write whose rejects and fixups are logged by the calls of
--- mig_capture inside it (set: the source set they belong to); `...` = its $n parameters.
--- Tallies them like write_batch; returns the rows written, the rejects and the fixups.
function Ctx:_write_captured(set, sql, ...)
  set_of(self, set, "_write_captured")
  local written = self.db:exec(sql, ...)
  local rejects, fixups = require("mighost.mig_capture").take(self.db)
  tally(self, "rejects", rejects)
  tally(self, "fixups", fixups)
  return written, rejects, fixups
end

--- SQL of the rows of source set `set` (on the ledger connection) that match `where` (SQL over
--- alias s) and have no reject yet, for the statements about the rows that follow a batch's own.
--- The reject test is planned per row (an index probe of mig_meta.rejects' key), never as an anti
--- join against every reject of the set, whose statistics lag while the batches add to it.
function Ctx:unrejected(set, where)
  local rs = set_of(self, set, "unrejected")
  return "SELECT s.* FROM (" .. rs.source_sql .. ") s CROSS JOIN LATERAL (SELECT NOT " .. rs.rejected_sql
    .. " AS ok OFFSET 0) nr WHERE (" .. (where or "true") .. ") AND nr.ok"
end

--- SQL of the rejects of source set `set`: columns source_key, reason, detail.
function Ctx:rejects_of(set)
  local rs = set_of(self, set, "rejects_of")
  return "SELECT r.source_key, r.reason, r.detail FROM mig_meta.rejects r WHERE r.migration = "
    .. db.quote_literal(self.name) .. " AND r.source_table = " .. db.quote_literal(rs.name)
end

--- The derived values of a declared phase (its `derived`) as a relation for a check's FROM: this
--- session's table when the run computed them, else their SQL as a subquery (e.g. under verify).
function Ctx:derived(phase)
  for _, m in ipairs(self._def.mapped or {}) do
    if m.name == phase and m.derived then
      local rel = require("mighost.mig_mapping_sql").derived_name(m)
      if self.db:scalar("SELECT to_regclass($1) IS NOT NULL", rel) then return rel end
      return "(" .. m:derived_sql(self) .. ")"
    end
  end
  error("ctx:derived: no declared phase " .. tostring(phase) .. " with derived values", 2)
end

--- Adds to counts.<set>.written (rows written for a set other than the phase's own, e.g. timers
--- updated in the batch of their task). The phase's own written count is the batch's return value.
function Ctx:written(set, n)
  tally(self, "written", n or 1, set)
end

return context
