-- mighost.mig_backup: the two backups of a migration run (stdlib/README.md, "Backups"):
--   * the in-database copy mig_backup_<name>.<table> (+ same PK), taken once, in the setup
--     transaction (scripts read it as their stable source);
--   * the file backup (mighost.backup, `backup = {..., dir = "backups"}` or `--backup-dir DIR`):
--     a new directory DIR/<name>-<run_id>-<UTC time>, written and verified after the lock and
--     the preconditions and before anything changes, recorded in mig_meta.runs.backup. If it
--     fails, the run is refused with nothing changed and the partial files are removed;
--   * the JSON backup (`backup = {format = "json", from = "source", tables = …}`, seed 004's
--     <prefix>_backup_<UTC>.json): written after the preconditions and before anything else (also in
--     a dry run when the declaration says `dry_run = true`), from the source connection's snapshot,
--     then re-read and checked (digest, rows per table). A failure is an error of the run (exit 1)
--     with nothing written to the target, and no partial file is left.
local db = require "mighost.db"
local log = require "mighost.log"
local sys = require "mighost.sys"
local script = require "mighost.script"
local filebackup = require "mighost.backup"

local M = {}

--- The primary key columns of a table (quoted), in key order.
local function pk_columns(conn, rel)
  local cols = {}
  for r in conn:rows([[SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid
      AND a.attnum = ANY (i.indkey::int2[]) WHERE i.indrelid = $1::regclass AND i.indisprimary
      ORDER BY array_position(i.indkey::int2[], a.attnum)]], rel) do
    cols[#cols + 1] = db.quote_ident(r.attname)
  end
  return cols
end

--- A name as SQL, quoted only where it must be (the messages show what a person would type).
local function ident(s)
  if s:match("^[a-z_][a-z0-9_]*$") then return s end
  return db.quote_ident(s)
end

--- How the live table differs from its snapshot taken by an earlier run: nil when it has the same
--- rows count and (with a primary key) the same keys, else one line saying so and what to do.
local function drift(conn, entry, src, dst, shown)
  local cols = pk_columns(conn, src)
  local sql = "SELECT (SELECT count(*) FROM " .. src .. ") AS live, (SELECT count(*) FROM " .. dst .. ") AS snap"
  if #cols > 0 then
    local key, same = {}, {}
    for i, c in ipairs(cols) do key[i] = "x." .. c .. "::text"; same[i] = "y." .. c .. " = x." .. c end
    local function only(a, b)   -- the keys of a that b lacks: how many, and the first three
      local rows = "FROM " .. a .. " x WHERE NOT EXISTS (SELECT 1 FROM " .. b .. " y WHERE " .. table.concat(same, " AND ") .. ")"
      return "(SELECT count(*) " .. rows .. "), (SELECT string_agg(k, ', ') FROM (SELECT concat_ws('|', "
        .. table.concat(key, ", ") .. ") AS k " .. rows .. " ORDER BY 1 LIMIT 3) z)"
    end
    sql = sql .. ", a.*, v.* FROM (SELECT " .. only(src, dst) .. ") a(added, added_keys), (SELECT "
      .. only(dst, src) .. ") v(vanished, vanished_keys)"
  end
  local r = conn:query(sql)[1]
  local added, vanished = tonumber(r.added) or 0, tonumber(r.vanished) or 0
  if tonumber(r.live) == tonumber(r.snap) and added == 0 and vanished == 0 then return nil end
  local keys = ""
  if #cols > 0 then
    keys = string.format("; %d key(s) not in the snapshot%s, %d key(s) gone from %s%s", added,
      added > 0 and (" (" .. r.added_keys .. (added > 3 and ", …" or "") .. ")") or "", vanished, entry,
      vanished > 0 and (" (" .. r.vanished_keys .. (vanished > 3 and ", …" or "") .. ")") or "")
  end
  return string.format("%s changed since its snapshot %s was taken: %s rows now, %s in the snapshot%s. This run"
    .. " reads the snapshot: rows added since are not migrated. To take a fresh one, drop it (DROP TABLE %s) and"
    .. " run again", entry, shown, tostring(r.live), tostring(r.snap), keys, shown)
end

--- Copies every declared table that exists into mig_backup_<name> once (CREATE TABLE AS + PK).
--- In the caller's (setup) transaction. Returns, for each copy an earlier run took, one line on
--- how the live table differs from it (none when they agree).
function M.copy(R)
  local drifts = {}
  if not R.def.backup_copy then return drifts end
  local conn, schema = R.conn, "mig_backup_" .. R.def.name
  local qs = db.quote_ident(schema)
  for _, entry in ipairs(R.def.backup) do
    local sch, tbl = entry:match("^([^.]+)%.(.+)$")
    if not sch then tbl = entry end
    local src = (sch and (db.quote_ident(sch) .. ".") or "") .. db.quote_ident(tbl)
    local dst = qs .. "." .. db.quote_ident(tbl)
    if conn:scalar("SELECT to_regclass($1) IS NOT NULL", src) ~= true then
      log.info("backup: %s does not exist, nothing to copy", entry)
    elseif conn:scalar("SELECT to_regclass($1) IS NOT NULL", dst) == true then
      drifts[#drifts + 1] = drift(conn, entry, src, dst, ident(schema) .. "." .. ident(tbl))
    else
      if conn:scalar("SELECT to_regnamespace($1) IS NULL", qs) then conn:exec("CREATE SCHEMA " .. qs) end
      conn:exec("CREATE TABLE " .. dst .. " AS TABLE " .. src)
      local cols = pk_columns(conn, src)
      if #cols > 0 then conn:exec("ALTER TABLE " .. dst .. " ADD PRIMARY KEY (" .. table.concat(cols, ", ") .. ")") end
      log.info("%sbackup: %s copied to %s (%s rows)", R.ctx:prefix(), entry, dst,
        tostring(conn:scalar("SELECT count(*) FROM " .. dst)))
    end
  end
  return drifts
end

--- After a rollback: the in-database snapshot is kept (it is also the copy of the data as it was);
--- one line saying so and how to take a fresh one, or nil when there is none.
function M.kept_after_rollback(R)
  if not R.def.backup_copy then return nil end
  local schema = "mig_backup_" .. R.def.name
  local n = tonumber(R.conn:scalar("SELECT count(*) FROM pg_tables WHERE schemaname = $1", schema)) or 0
  if n == 0 then return nil end
  return string.format("the in-database snapshot %s (%d table(s)) is kept: a later run reads the source as it was"
    .. " then; DROP SCHEMA %s CASCADE first to take a fresh one", schema, n, ident(schema))
end

--- The directory a file backup goes to this run (nil: no file backup): --backup-dir, else the
--- declaration's `dir` (which is also the option's default, so this is just the option).
local function base_dir(R)
  local d = R.values.backup_dir
  if d == nil or d == "" then return nil end
  return (d:gsub("(.)/+$", "%1"))
end

--- Removes what a failed or unverifiable backup left in `dir` (the files named by its manifest,
--- the manifest, then the directory if it is empty now).
local function remove_backup(dir, manifest)
  for _, t in ipairs(manifest and manifest.tables or {}) do os.remove(dir .. "/" .. t.file) end
  os.remove(dir .. "/manifest.json")
  os.remove(dir)
end

--- Whether this run may write `entry` (a backup table, "t" or "s.t"): always when the script has
--- Lua of its own that may write (mig definition's scripted_writes), else when a declared phase
--- writes it (its target, `also` or audit table, or the source of an in-place phase) or the
--- target DDL names it.
local function may_write(def, entry)
  if def.scripted_writes then return true end
  local bare = (entry:match("%.(.+)$") or entry):lower()
  local function same(t) return t ~= nil and (t:match("%.(.+)$") or t):lower() == bare end
  for _, m in ipairs(def.mapped) do
    if same(m.target) or same(m.audit and m.audit.table) then return true end
    for _, a in ipairs(m.also or {}) do
      if same(a.target) then return true end
    end
  end
  local word = "[^%w_$]" .. bare:gsub("%p", "%%%0") .. "[^%w_$]"
  return (" " .. (def.target_ddl or ""):lower() .. " "):find(word) ~= nil
end

--- The size of a table as the catalog last saw it (pg_class.relpages and its TOAST table's, kept
--- by VACUUM and ANALYZE: 0 for a table never analyzed), read without locking the table.
local SIZE = [[SELECT (COALESCE(c.relpages, 0)::bigint + COALESCE(t.relpages, 0)) * current_setting('block_size')::bigint
  FROM (SELECT to_regclass($1) AS oid) r LEFT JOIN pg_class c ON c.oid = r.oid LEFT JOIN pg_class t ON t.oid = c.reltoastrelid]]

--- The backup's tables stay as they are for the whole run, and the file system of `dir` has room
--- for their size as the catalog knows it: then their rows are copied by a second session
--- alongside the phases, from a snapshot it takes before anything changes. (Less room: the backup
--- is taken first, so that a disk that fills refuses the run before any change.)
local function alongside(R, dir)
  local size = 0
  for _, entry in ipairs(R.def.backup) do
    if may_write(R.def, entry) then return false end
    size = size + (tonumber(R.conn:scalar(SIZE, entry)) or 0)
  end
  return (sys.free_bytes(dir) or 0) >= size
end

--- What a finished backup is recorded as (in the ledger and the report) and said.
local function record(R, pending, manifest)
  local dir = pending.dir
  local seconds = pending.job and pending.job:seconds() or (sys.now() - pending.t0)
  local info = {dir = dir, tables = {}, manifest_sha256 = sys.sha256_file(dir .. "/manifest.json"),
                bytes = 0, seconds = math.floor(seconds * 1000 + 0.5) / 1000,
                alongside = pending.job ~= nil or nil}
  local counts = {}
  for _, t in ipairs(manifest.tables) do
    info.tables[#info.tables + 1] = {table = t.schema .. "." .. t.name, rows = t.rows}
    info.bytes = info.bytes + (t.bytes or 0)
    counts[#counts + 1] = string.format("%s.%s %d rows", t.schema, t.name, t.rows)
  end
  R.ledger:record_backup(info)
  R.ctx:say("File backup: %s (%s; verified, manifest sha256 %s%s)", dir, table.concat(counts, ", "),
    info.manifest_sha256:sub(1, 16), info.alongside and "; copied alongside the phases" or "")
  return info
end

--- A backup that failed or does not verify: its files go, and the directory DIR if this run made it.
local function discard(pending, manifest)
  if manifest then remove_backup(pending.dir, manifest) end
  if not pending.base_existed then os.remove(pending.base) end
end

--- Takes the file backup when one is asked for. Returns true (+ a detail for the report when one
--- was asked, + what was backed up: {dir, tables, manifest_sha256, bytes, seconds}), or false + a
--- refusal detail naming the directory and the reason (nothing changed). R: the mig_run Run.
--- When no table of the backup can change in this run, the copy is only started here (its
--- snapshot taken, names and directory checked): M.finish waits for it after the phases.
function M.file(R)
  local base = base_dir(R)
  if not base then return true end
  local tables = R.def.backup
  if #tables == 0 then
    return false, "a file backup into " .. base .. " was asked for, but the migration declares no backup tables"
  end
  local dir = string.format("%s/%s-%s-%s", base, R.def.name, tostring(R:run_id()), os.date("!%Y%m%dT%H%M%SZ"))
  local list = table.concat(tables, ", ")
  if R.dry_run then
    R.ctx:say("File backup of %s into %s skipped: a dry run writes no backup", list, dir)
    return true, "skipped in a dry run: " .. dir
  end
  local pending = {dir = dir, base = base, list = list, t0 = sys.now(), base_existed = sys.exists(base)}
  local spec = {conn = R.conn, tables = tables, dir = dir, script = script.path, run_id = tostring(R:run_id())}
  local ok, res
  if alongside(R, dir) then
    spec.application_name = string.format("mighost:%s backup pid %d", R.def.name, sys.getpid()):sub(1, 63)
    ok, res = pcall(filebackup.start, spec)
    if ok then pending.job = res end
  else
    ok, res = pcall(filebackup.tables, spec)
  end
  if not ok then
    -- the backup removed its files and the sub-directory; a DIR it created goes too (if empty)
    discard(pending)
    return false, string.format("file backup of %s into %s failed (nothing was changed): %s", list, dir,
      log.mask((tostring(res):gsub("^backup: ", ""))))
  end
  if pending.job then
    R.file_backup = pending
    return true, "copying alongside the phases, from a snapshot taken before any change: " .. dir
  end
  local good, problems = filebackup.verify(dir)
  if not good then
    discard(pending, res)
    return false, string.format("file backup into %s does not verify (removed; nothing was changed): %s", dir,
      table.concat(problems, "; "))
  end
  return true, "verified: " .. dir, record(R, pending, res)
end

--- Waits for the backup copied alongside the phases (nil when there is none) and records it;
--- returns what was backed up. A backup that failed or does not verify is removed and raises:
--- the tables it covers are unchanged by this run, and every batch committed so far stays.
function M.finish(R)
  local pending = R.file_backup
  if not pending then return nil end
  R.file_backup = nil
  local ok, manifest, good, problems = pcall(pending.job.wait, pending.job)
  local why = not ok and log.mask((tostring(manifest):gsub("^backup: ", "")))
    or (not good and ("it does not verify: " .. table.concat(problems, "; ")))
  if why then
    discard(pending, ok and manifest or nil)
    error(string.format("file backup of %s into %s failed (removed; this run does not change %s, and the batches"
      .. " committed so far are kept: run again to resume with a new backup): %s", pending.list, pending.dir,
      pending.list, why), 0)
  end
  return record(R, pending, manifest)
end

--- At a batch boundary: a backup copied alongside that has failed ends the run there.
function M.watch(R)
  local pending = R.file_backup
  if pending and pending.job:done() then
    local ok, _, good = pcall(pending.job.wait, pending.job)
    if not (ok and good) then M.finish(R) end
  end
end

--- After an error of the run: a backup that is still copying is cancelled (its files are
--- removed); one that has finished and verifies is recorded, else removed.
function M.abandon(R)
  local pending = R.file_backup
  if not pending then return end
  R.file_backup = nil
  if not pending.job:done() then
    pending.job:cancel()
    return discard(pending)
  end
  local ok, manifest, good = pcall(pending.job.wait, pending.job)
  if ok and good and pcall(record, R, pending, manifest) then return end
  discard(pending, ok and manifest or nil)
end

local function eval(v, ctx)
  if type(v) == "function" then return v(ctx) end
  return v
end

--- The JSON backup, when the declaration asks for one. Returns true + a detail for the report (+
--- what was written: {path, sha256, bytes, row_counts, seconds, …}), or raises (the run ends in error, exit 1: nothing was written to the target).
function M.json(R)
  local spec, ctx = R.def.backup_json, R.ctx
  local dir = base_dir(R) or "."
  if R.dry_run and not spec.dry_run then
    ctx:say("JSON backup into %s skipped: a dry run writes no backup", dir)
    return true, "skipped in a dry run"
  end
  local tables = eval(spec.tables, ctx) or {}
  local meta = {migration = R.def.name}
  for k, v in pairs(eval(spec.meta, ctx) or {}) do meta[k] = v end
  local t0 = sys.now()
  local ok, path, info = pcall(filebackup.json, {conn = R.conns[spec.from], tables = tables, prefix = spec.prefix,
    dir = dir, meta = meta, order_by = spec.order_by})
  if not ok then
    error(string.format("JSON backup into %s failed (nothing was written to the target, no partial file is left): %s",
      dir, log.mask((tostring(path):gsub("^backup: ", "")))), 0)
  end
  local good, problems, read = filebackup.verify_json(path, {sha256 = info.sha256, row_counts = info.row_counts})
  if not good then
    os.remove(path)
    error(string.format("JSON backup %s does not read back as written (removed; nothing was written to the target): %s",
      path, table.concat(problems, "; ")), 0)
  end
  local counts, total = {}, 0
  for _, t in ipairs(tables) do
    counts[#counts + 1] = string.format("%s %d", t, read.row_counts[t] or 0)
    total = total + (read.row_counts[t] or 0)
  end
  local rec = {path = path, format = "json", sha256 = read.sha256, bytes = read.bytes, row_counts = read.row_counts,
               created_at = info.created_at, verified = true, seconds = math.floor((sys.now() - t0) * 1000 + 0.5) / 1000}
  if not R.dry_run then R.ledger:record_backup(rec) end
  ctx:say("JSON backup: %s (%d rows: %s; read back: sha256 %s…, %d bytes, row counts match)", path, total,
    table.concat(counts, ", "), read.sha256:sub(1, 16), read.bytes)
  return true, "verified: " .. path, rec
end

--- The precondition backup_writable of a JSON backup: its directory can be written (or created).
function M.writable(ctx)
  return filebackup.probe_dir(base_dir(ctx._run) or ".")
end

return M
