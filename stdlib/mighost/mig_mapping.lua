-- mighost.mig_mapping: a declared phase — source, target, column mapping, reject rules, reference
-- rules — turned into what the phase runner executes (the migrated / pending SQL and a batch
-- function) and into the checks that follow from the declaration.
--
-- Three ways to run one declaration: set-based (every mapping is SQL and the source sits on the
-- ledger connection: one statement per batch inside PostgreSQL, mig_mapping_sql), piped (every
-- mapping is SQL and the source sits on another connection: COPY relayed from the source's session
-- into a stage table of the target's, then set-based there: mig_pipe) and streamed (source rows
-- through Lua, then COPY into the target's session: mig_stream).
local db = require "mighost.db"
local schema = require "mighost.schema"
local decl = require "mighost.mig_decl"
local parse = require "mighost.mig_mapping_decl"

local mapping = {}
local Mapped = {}
Mapped.__index = Mapped

local qi = db.quote_ident

local function is_query(s)
  local head = s:match("^%s*%(?%s*(%a+)")
  head = head and head:upper()
  return head == "SELECT" or head == "WITH" or head == "VALUES" or head == "TABLE"
end

--- One of `also`: another target of the same source rows (same key, rules and batch), with its
--- own map and references. `queue = true`: rows handed to a process that drains them (inserted if
--- absent with the migrated rows, but not part of "migrated", of the written count or of the checks).
local function also_target(m, a, i, where, line, fail)
  where = where .. ".also[" .. i .. "]"
  if type(a) ~= "table" then fail("also", where .. " must be {table = …, key = …, map = {…}}") end
  decl.keys(a, decl.ALSO, where, line)
  if type(a.table) ~= "string" then fail("also", where .. " needs `table`") end
  if a.key == nil then fail("also", where .. " needs `key`: the unique column(s) its map fills") end
  local t = setmetatable({name = m.name, line = line, def = m.def, keys = m.keys, source_table = m.source_table,
                          source_sql = m.source_sql, rules = m.rules, from = m.from, parent = m, also = {},
                          target = a.table, target_keys = parse.list(a.key), queue = a.queue == true,
                          check_names = a.check_names or {}}, Mapped)
  decl.keys(t.check_names, decl.ALSO_CHECK_NAMES, where .. ".check_names", line)
  parse.map(t, a.map, fail)
  if next(t.lua_map) ~= nil then fail("also", where .. ": map values must be SQL (also runs set-based)") end
  for _, k in ipairs(t.target_keys) do
    if not t.map[k] then fail("also", where .. ": key column '" .. k .. "' needs an SQL mapping in its `map`") end
  end
  parse.refs(t, a.references, where, line, fail)
  return t
end

--- Normalises and validates one declared phase `p` (declared at script line `line`).
function mapping.new(p, def, line)
  local m = setmetatable({name = p.name, line = line, def = def}, Mapped)
  local where = "phases (" .. tostring(p.name) .. ")"
  local function fail(key, msg) decl.fail(line, key, where, msg) end
  if type(p.source) == "function" then
    m.source_fn = p.source   -- chosen at run time (an install's tables): a table name or a query
  elseif type(p.source) ~= "string" then
    fail("source", "source must be a table name, a query or a function(ctx) returning one")
  else
    m.source_table = not is_query(p.source) and p.source or nil
    m.source_sql = m.source_table and ("SELECT * FROM " .. schema.qualify(p.source)) or p.source
  end
  if p.key == nil then fail("source", "needs `key`, the source's key column(s)") end
  m.keys = parse.list(p.key)
  local t = p.target
  if type(t) == "string" then t = {table = t} end
  if type(t) ~= "table" then fail("target", "target must be a table name or {table = …, key = …}") end
  decl.keys(t, decl.TARGET, where .. ".target", line)
  m.update = t.update == true
  m.target = t.table or (m.update and m.source_table) or nil
  if type(m.target) ~= "string" then fail("target", "target needs `table`") end
  m.target_keys = t.key and parse.list(t.key) or (m.update and m.keys) or nil
  m.owned = t.owned
  parse.map(m, p.map, fail)
  if not m.update then
    if not m.target_keys then fail("target", "target needs `key`: the target's unique column(s) the mapping fills") end
    for _, k in ipairs(m.target_keys) do
      if not m.map[k] then fail("target", "target key column '" .. k .. "' needs an SQL mapping in `map`") end
    end
  elseif not p.migrated then
    fail("target", "an in-place target needs `migrated`, an SQL predicate over s saying a row is done")
  end
  m.rules = {}
  for i, r in ipairs(p.rejects or {}) do
    if type(r) ~= "table" then fail("rejects", "rejects[" .. i .. "] must be {code, condition, detail = …}") end
    decl.keys(r, decl.REJECT, where .. ".rejects[" .. i .. "]", line)
    local code, cond = r.code or r[1], r.when or r[2]
    if type(code) ~= "string" then fail("rejects", "rejects[" .. i .. "] needs a reason code") end
    if r.missing ~= nil or r.duplicate ~= nil then
      m.rules[i] = require("mighost.mig_pipe").rule(r, code, cond, function(msg) fail("rejects", "rejects[" .. i
        .. "] (" .. code .. "): " .. msg) end)
    else
      local function chosen(v) return type(v) == "table" and (type(v.sql) == "string" or type(v.sql) == "function") end
      if type(cond) ~= "string" and type(cond) ~= "function" and not chosen(cond) then
        fail("rejects", "rejects[" .. i .. "] (" .. code .. ") needs a condition: SQL over s, {sql = fn(ctx)},"
          .. " or a function(row)")
      end
      -- {sql = …} (a condition or detail chosen at run time, e.g. for an install's columns) is
      -- resolved with the map (Mapped:exprs)
      m.rules[i] = {code = code, cond = not chosen(cond) and cond or nil, cond_decl = chosen(cond) and cond.sql or nil,
                    detail = not chosen(r.detail) and r.detail or nil, detail_decl = chosen(r.detail) and r.detail.sql or nil,
                    lua = type(cond) == "function"}
    end
  end
  parse.refs(m, p.references, where, line, fail)
  m.derived = parse.derived(p.derived, m, fail, where, line)
  m.audit = parse.audit(p.audit, fail, where, line)
  m.check_names = p.check_names or {}
  decl.keys(m.check_names, decl.CHECK_NAMES, where .. ".check_names", line)
  m.from = p.from or def.ledger
  m.streamed = p.mode == "stream" or m.from ~= def.ledger or next(m.lua_map) ~= nil or m.source_fn ~= nil
  for _, r in ipairs(m.rules) do m.streamed = m.streamed or r.lua end
  -- piped: the source on another connection and every value and rule in SQL (the COPY text is
  -- relayed, never turned into Lua values)
  m.piped = m.from ~= def.ledger and next(m.lua_map) == nil and #m.keys == 1
  for _, r in ipairs(m.rules) do m.piped = m.piped and not r.lua end
  require("mighost.mig_pipe").validate(m, fail)
  if p.mode ~= nil and p.mode ~= "stream" and p.mode ~= "set" then fail("mode", "mode must be \"set\" or \"stream\"") end
  if p.mode == "set" and m.streamed then
    fail("mode", "mode = \"set\" needs every mapping and rule in SQL and the source on the ledger connection")
  end
  if m.streamed and m.update then fail("target", "an in-place target runs set-based only") end
  m.also = {}
  for i, a in ipairs(p.also or {}) do m.also[i] = also_target(m, a, i, where, line, fail) end
  if #m.also > 0 and (m.streamed or m.update) then
    fail("also", "`also` needs a set-based insert phase (SQL map and rules, source on the ledger connection)")
  end
  if #m.also > 0 and p.audit ~= nil then fail("audit", "`audit` takes one target: declare it without `also`") end
  if p.after ~= nil and type(p.after) ~= "function" then fail("after", "after must be a function(ctx, batch)") end
  m.after = p.after
  if m.streamed and m.derived then fail("derived", "`derived` runs set-based only") end
  if m.streamed and m.audit then fail("audit", "`audit` runs set-based only") end
  m.migrated_decl, m.migrated_count_decl, m.fresh_decl = p.migrated, p.migrated_count, p.fresh
  return m
end

--- The derived values' SQL for this run (nil when the phase declares none).
function Mapped:derived_sql(ctx)
  if not self.derived then return nil end
  local v = self.derived.sql
  if type(v) == "function" then v = v(ctx) end
  return (v:gsub("[%s;]+$", ""))
end

--- ` LEFT JOIN <rel> d ON d.k = s.k`: the derived row of source row s (rel: a table or a subquery).
function Mapped:derived_join(rel, s)
  if not self.derived then return "" end
  local on = {}
  for i, k in ipairs(self.derived.keys) do on[i] = "d." .. qi(k) .. " = " .. (s or "s") .. "." .. qi(self.keys[i]) end
  return " LEFT JOIN " .. rel .. " d ON " .. table.concat(on, " AND ")
end

--- The SQL of each mapped column for this run (an {sql = function(ctx)} is asked once per state).
function Mapped:exprs(ctx)
  if self.resolved then return self.resolved end
  local out = {}
  for col, v in pairs(self.map) do
    if type(v) == "table" then v = v.sql end
    if type(v) == "function" then v = v(ctx) end
    if type(v) ~= "string" then
      error(decl.where(self.line, col) .. "phase " .. self.name .. ": map." .. col .. " {sql = fn}: fn must return SQL", 0)
    end
    out[col] = v
  end
  for i, r in ipairs(self.rules) do
    for _, f in ipairs({"cond", "detail"}) do
      local v = r[f .. "_decl"]
      if type(v) == "function" then v = v(ctx) end
      if v ~= nil and type(v) ~= "string" then
        error(decl.where(self.line, "rejects") .. "phase " .. self.name .. ": rejects[" .. i .. "]." .. f
          .. " {sql = fn}: fn must return SQL", 0)
      end
      if v ~= nil then r[f] = v end
    end
  end
  self.resolved = out
  return out
end

--- `t.k1 = (expr1) AND …`: a target row t that the source row s maps to.
function Mapped:match(ctx, t)
  local e, parts = self:exprs(ctx), {}
  for i, k in ipairs(self.target_keys) do
    parts[i] = t .. "." .. qi(k) .. " = (" .. e[k] .. ")"
  end
  return table.concat(parts, " AND ")
end

function Mapped:migrated(ctx)
  if self.migrated_decl then
    local v = self.migrated_decl
    if type(v) == "function" then return v(ctx) end
    return v
  end
  local parts = {}
  for _, t in ipairs(self:resolving()) do
    parts[#parts + 1] = "EXISTS (SELECT 1 FROM " .. schema.qualify(t.target) .. " t WHERE " .. t:match(ctx, "t") .. ")"
  end
  return table.concat(parts, " AND ")
end

--- The targets whose rows make a source row migrated: the target, then each of `also` but queues.
function Mapped:resolving()
  local out = {self}
  for _, a in ipairs(self.also or {}) do
    if not a.queue then out[#out + 1] = a end
  end
  return out
end

--- counts.<set>.migrated: counted in the generated checks' one pass when they have one (the
--- checks then read that pass, taken once), else one join of source and target (a per-row probe
--- costs far more).
function Mapped:migrated_count(ctx)
  if self.migrated_count_decl then
    local v = self.migrated_count_decl
    if type(v) == "function" then return v(ctx) end
    return ctx.db:scalar(v)
  end
  local gen = require "mighost.mig_gencheck"
  if gen.one_pass(self) then
    -- in a savepoint: an SQL error of the pass is for the checks to report (each fails with it)
    local ok, n = pcall(ctx.db.tx, ctx.db, function() return gen.pass_count(self, ctx, "migrated") end)
    if ok then return n end
  end
  if self.from ~= self.def.ledger then
    return ctx.db:scalar("SELECT count(*) FROM " .. schema.qualify(self.target) .. " t"
      .. (self.owned and (" WHERE " .. self.owned) or ""))
  end
  if self.update then
    return ctx.db:scalar("SELECT count(*) FROM (" .. self.source_sql .. ") s WHERE " .. self:migrated(ctx))
  end
  local joins = {}
  for i, t in ipairs(self:resolving()) do
    local alias = i == 1 and "t" or ("t" .. i)
    joins[i] = " JOIN " .. schema.qualify(t.target) .. " " .. alias .. " ON " .. t:match(ctx, alias)
  end
  return ctx.db:scalar("SELECT count(*) FROM (" .. self.source_sql .. ") s" .. table.concat(joins))
end

--- True when no row of the set can be migrated yet (a first run: no per-row pending probe).
function Mapped:fresh(ctx)
  if self.fresh_decl ~= nil then
    local v = self.fresh_decl
    if type(v) == "function" then return v(ctx) end
    return ctx.db:scalar(v) == true
  end
  if self.update then return false end
  return ctx.db:scalar("SELECT NOT EXISTS (SELECT 1 FROM " .. schema.qualify(self.target) .. " t"
    .. (self.owned and (" WHERE " .. self.owned) or "") .. ")") == true
end

--- True when the target numbers its rows itself (an unmapped serial or identity column): rows
--- are then inserted in source key order, so the numbers follow the source's order whichever way
--- the declaration runs.
function Mapped:numbers_rows(ctx)
  if self.numbering == nil then
    local mapped = {}
    for i, c in ipairs(self.columns) do mapped[i] = c end
    self.numbering = ctx.db:scalar([[SELECT EXISTS (SELECT 1 FROM pg_attribute a
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> ALL ($2::text[])
          AND (a.attidentity <> '' OR pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%'))]],
      schema.qualify(self.target), db.array(mapped)) == true
  end
  return self.numbering
end

--- The columns of a unique index of the target (no predicate, no expression) that are all among
--- its key columns: the primary key if it is one, else the narrowest. nil when there is none.
function Mapped:unique_subset(conn)
  local keys = {}
  for _, k in ipairs(self.target_keys) do keys[k] = true end
  for _, r in ipairs(conn:query([[SELECT (SELECT array_agg(a.attname::text ORDER BY k.n)
        FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, n)
        JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum WHERE k.n <= x.indnkeyatts) AS cols
      FROM pg_index x WHERE x.indrelid = to_regclass($1) AND x.indisunique AND x.indpred IS NULL AND x.indexprs IS NULL
      ORDER BY x.indisprimary DESC, x.indnkeyatts, x.indexrelid]], schema.qualify(self.target))) do
    local ok = type(r.cols) == "table" and #r.cols > 0
    for _, c in ipairs(ok and r.cols or {}) do ok = ok and keys[c] == true end
    if ok then return r.cols end
  end
  return nil
end

--- The columns of the batches' "insert if absent" (ON CONFLICT): the unique subset of the key.
function Mapped:conflict_keys(ctx)
  if not self.conflict then self.conflict = self:unique_subset(ctx.db) or self.target_keys end
  return self.conflict
end

--- An existing insert target needs a unique index on its key columns or on some of them (the
--- batches insert "if absent" on it; the key may add columns that say the row is this
--- migration's, e.g. a part's task key). Returns ok, detail.
function Mapped:key_unique(ctx)
  if self.update or self.from ~= self.def.ledger then return true end
  for _, t in ipairs(self.also and {self, unpack(self.also)} or {self}) do
    if ctx.db:scalar("SELECT to_regclass($1) IS NOT NULL", schema.qualify(t.target)) and not t:unique_subset(ctx.db)
        and not require("mighost.mig_keys").pending(ctx._run, t.target) then   -- setup adds it back
      return false, t.target .. " has no unique index on (" .. table.concat(t.target_keys, ", ") .. ") or some of them"
    end
  end
  return true
end

--- The phase the runner executes.
function Mapped:phase(p)
  local m = self
  local ph = {name = p.name, label = p.label, source = m.streamed and function(ctx) return m:stream_source(ctx) end
                or m.source_sql,
              key = p.key, workers = p.workers, main = p.main, probe = p.probe, every = p.every, from = m.from,
              fetch = m.piped and "pipe" or (m.streamed and "rows" or "range"), mapped = m,
              migrated_count = function(ctx) return m:migrated_count(ctx) end,
              fresh = function(ctx) return m:fresh(ctx) end}
  if m.from == m.def.ledger then
    ph.migrated = function(ctx) return m:migrated(ctx) end
  else
    ph.migrated_count_only = true
  end
  if m.piped then
    ph.pipe = function(ctx, rs, after, upto, limit) return require("mighost.mig_pipe").fetch(m, ctx, rs, after, upto, limit) end
    ph.after = function(ctx) return require("mighost.mig_pipe").after(m, ctx) end
  end
  -- an SQL error names this declaration's line: Run:with_retry (mig_run), for every phase's batch
  ph.batch = function(ctx, rows)
    if m.piped then return require("mighost.mig_pipe").batch(m, ctx, rows) end
    if m.streamed then return require("mighost.mig_stream").batch(m, ctx, rows) end
    return require("mighost.mig_mapping_sql").batch(m, ctx)
  end
  return ph
end

--- The source rows with the set's reject rule and row data computed by PostgreSQL (streamed runs
--- read them from the source's session, which may be another database).
function Mapped:stream_source(ctx)
  if self.source_fn then
    local v = self.source_fn(ctx)
    if type(v) ~= "string" then
      error(decl.where(self.line, "source") .. "phase " .. self.name .. ": source(ctx) must return a table name or a query", 0)
    end
    self.source_sql = is_query(v) and v or ("SELECT * FROM " .. schema.qualify(v))
  end
  return require("mighost.mig_mapping_sql").stream_source(self, ctx)
end

-- The reject rules as SQL (rule_case, detail_case, reason_of, fenced): mig_mapping_rules.
for k, f in pairs(require "mighost.mig_mapping_rules") do mapping[k] = f end

return mapping
