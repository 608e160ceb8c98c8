---@meta
-- lua-language-server annotations of mighost.backup (host/bind/backup.cpp).

---@class mighost.backup.Manifest
---@field tables {schema: string, name: string, rows: integer, file: string, sha256: string, bytes: integer}[]

---A backup being copied on a thread of its own (backup.start).
---@class mighost.backup.Job
local Job = {}
---True once the copy and its verification have ended (never waits).
---@return boolean
function Job:done() end
---Seconds from backup.start to the end of the copy (so far, while it runs).
---@return number
function Job:seconds() end
---Waits for the end; raises as backup.tables does when the copy failed.
---@return mighost.backup.Manifest manifest
---@return boolean ok
---@return string[] problems
function Job:wait() end
---Stops a copy still running; the files of an unfinished copy are removed.
function Job:cancel() end

---Table snapshots on disk, their verification and their restore; JSON exports.
---@class mighost.backup
local backup = {}

---One consistent snapshot of the tables (or a schema) into the new directory `dir`.
---@param opts {conn: mighost.db.Connection, tables: string[]?, schema: string?, dir: string, compress: "none"|"zstd"?, level: integer?, script: string?, run_id: integer?}
---@return mighost.backup.Manifest
function backup.tables(opts) end
---The same snapshot, copied by a second session (opened with `conn`'s parameters, search_path and
---timeouts) on a thread of its own: before it returns, the snapshot is taken and the names and the
---directory are checked.
---@param opts {conn: mighost.db.Connection, application_name: string?, tables: string[]?, schema: string?, dir: string, compress: "none"|"zstd"?, level: integer?, script: string?, run_id: integer?}
---@return mighost.backup.Job
function backup.start(opts) end
---Re-hashes and re-counts every file against the manifest.
---@param dir string
---@return boolean ok
---@return string[] problems
function backup.verify(dir) end
---Restores in one transaction (missing tables created from the recorded DDL).
---@param dir string
---@param opts {conn: mighost.db.Connection, tables: string[]?, truncate: boolean?}
---@return {tables: {schema: string, name: string, rows: integer, created: boolean, truncated: boolean}[]}
function backup.restore(dir, opts) end
---A JSON export: `_meta`, then one key per table, each row row_to_json.
---@param opts {conn: mighost.db.Connection, tables: string[]?, prefix: string?, dir: string?, schema: string?, order_by: string[]?, meta: table?}
---@return string path
---@return {path: string, sha256: string, bytes: integer, created_at: string, row_counts: table<string, integer>} info
function backup.json(opts) end
---Reads a JSON export back: its sha256 and its rows per table.
---@param path string
---@param expect {sha256: string?, row_counts: table<string, integer>?}?
---@return boolean ok
---@return string[] problems
---@return table info
function backup.verify_json(path, expect) end
---Loads a JSON export into existing tables.
---@param path string
---@param opts {conn: mighost.db.Connection, tables: string[]?, schema: string?, truncate: boolean?}
---@return table
function backup.restore_json(path, opts) end
---Whether a backup can be written into `dir` (creates nothing).
---@param dir string
---@return boolean ok
---@return string detail
function backup.probe_dir(dir) end

return backup
