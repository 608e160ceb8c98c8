---@meta
-- lua-language-server annotations of mighost.db (host/bind/db*.cpp). Not loaded by mighost:
-- editors read them (`mighost new` writes a .luarc.json that points here).

---A value PostgreSQL sends or receives: nil / db.NULL (NULL), boolean, number, int64_t cdata,
---string (text, numeric as exact decimal text, bytea as raw bytes, timestamps as ISO text), or an
---array table.
---@alias mighost.db.Value nil|boolean|number|string|ffi.cdata*|mighost.db.Array|mighost.db.Null

---The SQL NULL (distinct from nil and from ''); `tostring(db.NULL)` is "NULL".
---@class mighost.db.Null

---A one-dimensional SQL array: elements 1..n, `n` its length (NULL elements are db.NULL).
---@class mighost.db.Array
---@field n integer
---@field [integer] mighost.db.Value

---A result row: column name -> value.
---@alias mighost.db.Row table<string, mighost.db.Value>

---`conn:query` results: rows 1..n, plus the column names and type names in order.
---@class mighost.db.Rows
---@field columns string[]
---@field types string[]
---@field [integer] mighost.db.Row

---An SQL error, as raised by every statement; `tostring(err)` is one line
---(`ERROR 42P01: relation "nope" does not exist at character 15 in: SELECT * FROM nope`).
---@class mighost.db.Error
---@field message string
---@field sqlstate string       five characters; "08006" for a lost connection
---@field severity string
---@field detail string?
---@field hint string?
---@field context string?
---@field query string?         the statement
---@field position integer?     1-based character offset into `query`

---A PostgreSQL session (libpq). Every session uses UTF8, ISO dates, exact float text.
---@class mighost.db.Connection
local Connection = {}

---Closes the session (also when garbage-collected).
function Connection:close() end
---@return boolean
function Connection:is_open() end
---The connection string with the password masked.
---@return string
function Connection:url() end
---@return integer
function Connection:backend_pid() end
---e.g. 150004
---@return integer
function Connection:server_version() end
---The transaction depth: 0 outside a transaction, 1 in `tx`, 2 in a nested `tx` (savepoint), …
---@return integer
function Connection:in_tx() end
---@param ms integer 0 = none
function Connection:set_statement_timeout(ms) end
---@param ms integer 0 = none
function Connection:set_lock_timeout(ms) end
---While a statement waits, look every `ms` for the sessions blocking it; a lock timeout's error
---then names them (pid, application_name, state, query). 0 turns it off.
---@param ms integer
function Connection:watch_lock_waits(ms) end
---This session's DDL lint findings so far (the last 100).
---@return {rule: string, table: string, statement: string, message: string, safer: string}[]
function Connection:lint_warnings() end
---Tables this run created: the lint judges their locks harmless.
---@param names string[]
function Connection:lint_new_tables(names) end
---Starts recording the relation locks this session takes.
function Connection:track_locks() end
---Per table: the strongest lock and the longest write-blocking one, with how long each was held.
---@return {table: string, strongest: string, strongest_seconds: number, strongest_statement: string, blocking: string, blocking_seconds: number, blocking_statement: string}[]
function Connection:lock_report() end

---Runs a statement; parameters `$1..$n` are bound, never interpolated.
---@param sql string
---@param ... mighost.db.Value
---@return mighost.db.Rows
function Connection:query(sql, ...) end
---Runs a statement (several, separated by `;`, when there are no parameters).
---@param sql string
---@param ... mighost.db.Value
---@return integer affected the affected row count (0 for DDL)
function Connection:exec(sql, ...) end
---The first column of the first row; nil when there is no row.
---@param sql string
---@param ... mighost.db.Value
---@return mighost.db.Value
function Connection:scalar(sql, ...) end
---Streams a result through a server-side cursor; `fn` returning false stops early.
---@param sql string
---@param params mighost.db.Value[]?
---@param fn fun(row: mighost.db.Row): boolean?
---@param batch_size integer? rows per FETCH (default 1000)
---@return integer rows
function Connection:each(sql, params, fn, batch_size) end
---`for row in conn:rows(sql, ...) do … end`, streamed like `each`.
---@param sql string
---@param ... mighost.db.Value
---@return fun(): mighost.db.Row?
function Connection:rows(sql, ...) end
---BEGIN; commits when `fn` returns, rolls back and re-raises when it errors. Nested: a savepoint.
---@generic R
---@param fn fun(...): R
---@param ... any passed to fn
---@return R
function Connection:tx(fn, ...) end
---`COPY table (columns) FROM STDIN`.
---@param table string a name (quoted for you; "schema.table" is split) or a quoted identifier
---@param columns string[]
---@return mighost.db.CopyWriter
function Connection:copy_in(table, columns) end
---`COPY (sql) TO STDOUT`: each step yields the row's values as exact text (and db.NULL).
---@param sql_or_table string
---@return fun(): (string|mighost.db.Null)[]?
function Connection:copy_out(sql_or_table) end
---`COPY (query) TO STDOUT` on `source` relayed into `COPY table (columns) FROM STDIN` here.
---@param source mighost.db.Connection
---@param query string
---@param table string
---@param columns string[]
---@return integer stored
---@return integer read
function Connection:copy_from(source, query, table, columns) end

---An open `COPY … FROM STDIN`.
---@class mighost.db.CopyWriter
local CopyWriter = {}
---@param row mighost.db.Value[] the values in column order
function CopyWriter:write(row) end
---Ends the COPY.
---@return integer rows
function CopyWriter:close() end
---Cancels the COPY.
---@param message string?
function CopyWriter:abort(message) end

---An open `COPY … TO STDOUT` (the iterator `copy_out` returns).
---@class mighost.db.CopyReader

---@class mighost.db
---@field NULL mighost.db.Null
local db = {}

---Opens a session: a libpq URL or key=value string; without one `--db`, else `DATABASE_URL`,
---else libpq's PG* environment.
---@param conninfo string?
---@return mighost.db.Connection
function db.connect(conninfo) end
---@param s string
---@return string
function db.quote_ident(s) end
---@param s string
---@return string
function db.quote_literal(s) end
---True for nil and db.NULL.
---@param v any
---@return boolean
function db.is_null(v) end
---True for a mighost.db.Error.
---@param v any
---@return boolean
function db.is_error(v) end
---Marks a Lua table as an SQL array (a parameter becomes an array literal).
---@param t table
---@return mighost.db.Array
function db.array(t) end
---An int64_t cdata from a number or a decimal string.
---@param v number|string
---@return ffi.cdata*
function db.int64(v) end

return db
