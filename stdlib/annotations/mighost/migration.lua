---@meta
-- lua-language-server annotations of mighost.migration: the table `migration.define` takes, its
-- parts, and the `ctx` every function of a declaration receives (stdlib/mighost/migration.lua,
-- mig_decl.lua, mig_context.lua; described in the Lua API, stdlib/README.md).

---SQL text, or a function of ctx returning it (chosen at run time).
---@alias mighost.migration.Sql string|fun(ctx: mighost.migration.Ctx): string

---A mapped value: SQL over the source row `s`, `{sql = function(ctx) … end}`, or a Lua function
---of the row (the phase then streams through Lua).
---@alias mighost.migration.MapValue string|{sql: mighost.migration.Sql}|fun(row: mighost.db.Row, ctx: mighost.migration.Ctx): mighost.db.Value

---The declaration: `migration.define { … }:main()`.
---@class mighost.migration.Declaration
---@field name string                       the lock mighost:<name>, mig_meta rows, mig_backup_<name>
---@field description string?               shown by --help
---@field options table<string, mighost.migration.OptionSpec|false>?   the script's options (underscore names; false removes a common one)
---@field connections mighost.migration.ConnectionDecl[]?   default: one, --db
---@field ledger string?                    the connection holding mig_meta, the lock and the batches (default "target" if declared, else the first)
---@field backup string[]|mighost.migration.BackupDecl?    tables copied into mig_backup_<name> before any change
---@field preconditions mighost.migration.Precondition[]?
---@field prepare fun(ctx: mighost.migration.Ctx)?     read-only lookups (runs in run, verify and rollback)
---@field setup fun(ctx: mighost.migration.Ctx)?       idempotent DDL in the setup transaction
---@field phases (mighost.migration.Phase)[]
---@field sets mighost.migration.SetDecl[]?            source sets resolved inside another phase's batch
---@field finalize fun(ctx: mighost.migration.Ctx)?    complete runs only, in the transaction of the checks
---@field checks mighost.migration.Check[]?            what the declaration cannot imply
---@field rollback mighost.migration.Sql?              `mighost rollback`: SQL text or function(ctx)
---@field target_ddl string?                 the new tables as CREATE TABLE / INDEX / ALTER … ADD CONSTRAINT
---@field alter_ddl string?                  additions to existing tables, applied in their lock-safe forms
---@field enums table<string, string[]>?     enum types and their labels, created when missing
---@field target_columns "exact"?            refuse an existing table with columns the DDL does not declare

---A script option: `ctx.options.<name>`.
---@class mighost.migration.OptionSpec
---@field type "int"|"number"|"string"|"bool"|"duration"|"path"|"enum"?
---@field default any
---@field help string?
---@field min number?
---@field max number?
---@field required boolean?
---@field flag string?       default --<name with dashes>
---@field metavar string?
---@field choices string[]?  for type = "enum"

---`backup = {"t1", "s.t2", dir = "backups", copy = false}` or the JSON form
---`{format = "json", from = "source", tables = …, prefix = "rds", dir = ".", order_by = "id", meta = fn, dry_run = true}`.
---@class mighost.migration.BackupDecl
---@field tables string[]|fun(ctx: mighost.migration.Ctx): string[]?
---@field dir string?        also a file backup there on every applied run (--backup-dir overrides)
---@field copy boolean?      false: no in-database copy
---@field format "json"?
---@field from string?       the connection the JSON backup reads
---@field prefix string?
---@field order_by string|string[]?
---@field meta fun(ctx: mighost.migration.Ctx): table?
---@field dry_run boolean?   write the JSON backup in a dry run too
---@field [integer] string

---@class mighost.migration.ConnectionDecl
---@field name string        ctx.<name>
---@field option string?     the option's name (default <name>_db)
---@field flag string?       default --<name>-db
---@field env string?        the environment variable it falls back to
---@field fallback string?   another connection's conninfo when nothing is given
---@field help string?
---@field default "libpq"?   with nothing given, libpq's own environment
---@field read_only boolean?
---@field snapshot boolean?  the whole run in one REPEATABLE READ READ ONLY transaction of this session
---@field schema string?     an option whose value is the session's search_path

---@class mighost.migration.Precondition
---@field name string
---@field sql mighost.migration.Sql?     its first column must equal `expected`
---@field check fun(ctx: mighost.migration.Ctx): boolean, string?   returns ok and a detail
---@field expected any                    default true
---@field detail string?
---@field warn_only boolean?              reported, never refuses
---@field early boolean?                  right after the lock, before mig_meta is written

---A phase: declared (`target` + `map`), keyset (`batch`) or step (`step`).
---@class mighost.migration.Phase
---@field name string                     the source set: counts, rejects.source_table, PROGRESS label
---@field label string?                   PROGRESS label
---@field source mighost.migration.Sql?   a table name or a query (no $n)
---@field key string|string[]?            the source key; text keys in COLLATE "C" order
---@field from string?                    the connection the source is read from
---@field target mighost.migration.Target?
---@field map table<string, mighost.migration.MapValue>?   target column = value
---@field rejects mighost.migration.Reject[]?             ordered; the first that holds wins
---@field references table<string, mighost.migration.Reference>?
---@field also mighost.migration.AlsoTarget[]?            more targets of the same rows, same statement
---@field after fun(ctx: mighost.migration.Ctx, batch: {migrated: string[], rejected: string[], reasons: string[]})?
---@field derived string|mighost.migration.Derived?       values over the whole set, read as d.<col>
---@field audit mighost.migration.Audit?
---@field check_names mighost.migration.CheckNames|false?  names of the generated checks; false: none
---@field mode "stream"?                  force streaming through Lua
---@field migrated mighost.migration.Sql? predicate over s: the row is migrated
---@field migrated_count mighost.migration.Sql|fun(ctx: mighost.migration.Ctx): integer?
---@field pending string?                 predicate over s (default: not migrated, not rejected)
---@field fresh mighost.migration.Sql?    true when no row of the set can be migrated yet
---@field fetch "rows"|"range"?           "range": the batch reads ctx.window.source itself
---@field probe "always"?                 keep the per-row pending probe in a first run
---@field batch fun(ctx: mighost.migration.Ctx, rows: mighost.db.Row[]): integer?   one transaction; returns rows written
---@field step fun(ctx: mighost.migration.Ctx): integer?   called until it returns 0 / nil
---@field total mighost.migration.Sql|fun(ctx: mighost.migration.Ctx): integer?   a step phase's total
---@field counts fun(ctx: mighost.migration.Ctx, done: integer): table?   counts.<name> of a step phase
---@field workers boolean?                may run in --workers N threads
---@field main boolean?                   the set --limit applies to
---@field every integer?                  PROGRESS every N rows

---@class mighost.migration.Target
---@field table string
---@field key string|string[]             a unique key of the target the map fills
---@field owned string?                   SQL: the target rows this migration writes
---@field update boolean?                 the source table itself, updated in place

---@class mighost.migration.AlsoTarget
---@field table string
---@field key string|string[]
---@field map table<string, string>
---@field references table<string, mighost.migration.Reference>?
---@field queue boolean?                  rows handed to a process that drains them (never "migrated")
---@field check_names mighost.migration.AlsoCheckNames?

---`{code, condition, detail = …}`, or `{code, missing = {col = {"table", "key"}}}`,
---`{code, duplicate = {"col", …}}` (piped phases).
---@class mighost.migration.Reject
---@field [1] string                      the code (or `code =`)
---@field [2] string|{sql: mighost.migration.Sql}?   SQL over s (or `when =`)
---@field code string?
---@field when string|{sql: mighost.migration.Sql}?
---@field detail string|{sql: mighost.migration.Sql}?   SQL over s: the reject's detail
---@field missing table<string, string[]>?
---@field duplicate string[]?

---Kept when the row exists, else NULL (or `fallback`) and a fixup.
---@class mighost.migration.Reference
---@field [1] string?                     the table (or `table =`)
---@field [2] string?                     its key (or `key =`)
---@field table string?
---@field key string?
---@field rule string                     the fixup's rule
---@field fallback string?                SQL: the value instead of NULL
---@field required boolean?               a NULL reference gets the fallback too
---@field deferred boolean?               the row may arrive later in the phase
---@field not_self boolean?               a row naming itself counts as dangling

---@class mighost.migration.Derived
---@field sql string
---@field key string|string[]?

---@class mighost.migration.Audit
---@field table string
---@field row table<string, string>       column = SQL over t (the row written) and s (the source row)

---@class mighost.migration.CheckNames
---@field accounted string?
---@field no_double_resolution string?
---@field values string?
---@field rejects string?
---@field fixups string?

---@class mighost.migration.AlsoCheckNames
---@field values string?

---@class mighost.migration.SetCheckNames
---@field accounted string?

---@class mighost.migration.SetDecl
---@field name string
---@field source mighost.migration.Sql
---@field key string|string[]
---@field migrated mighost.migration.Sql?
---@field migrated_count mighost.migration.Sql|fun(ctx: mighost.migration.Ctx): integer?
---@field pending string?
---@field from string?
---@field check_names mighost.migration.SetCheckNames?

---@class mighost.migration.Check
---@field name string
---@field sql mighost.migration.Sql?      its first column is compared with `expected`
---@field fn fun(ctx: mighost.migration.Ctx): any?
---@field count {[1]: mighost.migration.Sql, [2]: mighost.migration.Sql}[]?   {from, where} pairs: the value is the sum of the rows of each `from` where `where` holds; checks counting over the same `from` share one query
---@field expected any|fun(ctx: mighost.migration.Ctx): any   default 0
---@field on string?                      the connection it runs on
---@field needs "complete"|"finalize"?

---The batch's window (see "Set-based batches").
---@class mighost.migration.Window
---@field after string?                   the previous window's last key (nil for the first)
---@field last string
---@field all_pending boolean
---@field source string?                  SQL of the window's pending source rows
---@field params mighost.db.Value[]?

---What every function of a declaration receives.
---@class mighost.migration.Ctx
---@field db mighost.db.Connection        the ledger connection
---@field conn table<string, mighost.db.Connection>   every declared connection (also ctx.<name>)
---@field options table<string, any>      parsed options (underscore names; durations in ms)
---@field opt table<string, any>          the same as options
---@field dry_run boolean
---@field run_id integer?
---@field name string
---@field phase string?
---@field worker integer?                 1..N in a worker, else nil
---@field shared table                    JSON-able values from prepare/setup; workers get a copy
---@field window mighost.migration.Window?
---@field log mighost.log
local Ctx = {}

---"[DRY RUN] " in a dry run, else "".
---@return string
function Ctx:prefix() end
---A top-level field of the JSON report.
---@param key string
---@param value any
function Ctx:report(key, value) end
---A stdout line (prefixed in a dry run).
---@param fmt string
---@param ... any
function Ctx:say(fmt, ...) end
---@param fmt string
---@param ... any
function Ctx:info(fmt, ...) end
---@param fmt string
---@param ... any
function Ctx:warn(fmt, ...) end
---@param fmt string
---@param ... any
function Ctx:debug(fmt, ...) end
---A mig_meta.rejects row in the batch transaction.
---@param row mighost.db.Row
---@param code string
---@param detail string?
---@param set string?  default: the current phase
function Ctx:reject(row, code, detail, set) end
---Set-based rejects: `sql` returns source_key, reason, detail, row_data.
---@param set string
---@param sql string
---@param ... mighost.db.Value
---@return integer
function Ctx:reject_rows(set, sql, ...) end
---A mig_meta.fixups row.
---@param row mighost.db.Row
---@param field string
---@param rule string
---@param old string?
---@param new string?
---@param set string?
function Ctx:fixup(row, field, rule, old, new, set) end
---Set-based fixups: `sql` returns source_key, field, rule, old_value, new_value.
---@param set string
---@param sql string
---@param ... mighost.db.Value
---@return integer
function Ctx:fixup_rows(set, sql, ...) end
---A whole batch as one statement.
---@param spec {with: string?, rejects: string?, fixups: string?, write: string|string[]?, side: string|string[]?, select: string|string[]?, set: string?}
---@param ... mighost.db.Value
---@return integer written
---@return mighost.db.Row result
function Ctx:write_batch(spec, ...) end
---SQL of the set's source rows matching `where` (over s) that have no reject yet.
---@param set string
---@param where string
---@return string
function Ctx:unrejected(set, where) end
---SQL of a set's rejects (source_key, reason, detail).
---@param set string
---@return string
function Ctx:rejects_of(set) end
---A phase's derived values as a relation (this run's table, else its SQL).
---@param phase string
---@return string
function Ctx:derived(phase) end
---Adds to counts.<set>.written for a set written in another phase's batch.
---@param set string
---@param n integer
function Ctx:written(set, n) end

---What `migration.define` returns.
---@class mighost.migration.Migration
local Migration = {}
---Parses script.args, runs the command (run, verify, rollback, or a worker), returns the exit code.
---@return integer
function Migration:main() end
---The --help text.
---@return string
function Migration:usage() end

---@class mighost.migration
local migration = {}

---Checks the declaration (any unknown key is an error naming its line) and returns the migration.
---@param declaration mighost.migration.Declaration
---@return mighost.migration.Migration
function migration.define(declaration) end

return migration
