---@meta
-- lua-language-server annotations of mighost.check (stdlib/mighost/check.lua).

---A table ("t", "s.t", {schema, table}, {schema = s, table = t}, optionally with `where`), or a
---query {sql = "SELECT …"}.
---@alias mighost.check.Relation string|{[1]: string, [2]: string}|{schema: string?, table: string, where: string?}|{sql: string}

---`tostring(result)` is `CHECK <name> PASS|FAIL expected=<e> actual=<a>`.
---@class mighost.check.Result
---@field name string
---@field passed boolean
---@field expected string
---@field actual string
---@field samples string[]
---@field detail string?

---@class mighost.check.Options
---@field name string?
---@field samples integer? (default 10)

---@class mighost.check
local check = {}

---@param conn mighost.db.Connection
---@param o mighost.check.Options|{left: mighost.check.Relation|number, right: mighost.check.Relation|number}
---@return mighost.check.Result
function check.count_equal(conn, o) end
---@param conn mighost.db.Connection
---@param o mighost.check.Options|{left: any, right: any, column: string?, left_column: string?, right_column: string?, left_expr: string?, right_expr: string?}
---@return mighost.check.Result
function check.sum_equal(conn, o) end
---@param conn mighost.db.Connection
---@param o mighost.check.Options|{child: mighost.check.Relation, column: string?, columns: string[]?, parent: mighost.check.Relation, parent_column: string?, parent_columns: string[]?}
---@return mighost.check.Result
function check.no_orphans(conn, o) end
---@param conn mighost.db.Connection
---@param o mighost.check.Options|{table: mighost.check.Relation, columns: string|string[]}
---@return mighost.check.Result
function check.unique(conn, o) end
---@param conn mighost.db.Connection
---@param o mighost.check.Options|{table: mighost.check.Relation, columns: string|string[], key: string|string[]?}
---@return mighost.check.Result
function check.not_null(conn, o) end
---@param conn mighost.db.Connection
---@param o mighost.check.Options|{table: mighost.check.Relation, column: string, values: string[], allow_null: boolean?}
---@return mighost.check.Result
function check.values_in(conn, o) end
---@param conn mighost.db.Connection
---@param o mighost.check.Options|{sql: string, params: mighost.db.Value[]?, expected: number|string?}
---@return mighost.check.Result
function check.query_zero(conn, o) end
---@param conn mighost.db.Connection
---@param o mighost.check.Options|{sql: string, params: mighost.db.Value[]?}
---@return mighost.check.Result
function check.query_empty(conn, o) end
---An order-independent content hash of a relation.
---@param conn mighost.db.Connection
---@param rel mighost.check.Relation
---@return string hex
---@return integer rows
function check.fingerprint(conn, rel) end
---@param conn mighost.db.Connection
---@param o mighost.check.Options|{left: mighost.check.Relation?, table: mighost.check.Relation?, right: mighost.check.Relation?, right_conn: mighost.db.Connection?, expected: string?}
---@return mighost.check.Result
function check.fingerprint_equal(conn, o) end
---@param conn mighost.db.Connection
---@param o mighost.check.Options|{sql: string, params: mighost.db.Value[]?, index: string}
---@return mighost.check.Result
function check.uses_index(conn, o) end
---Row by row (or by hashed key buckets above `threshold`): missing, extra and different keys.
---@param conn mighost.db.Connection
---@param o mighost.check.Options|{left: mighost.check.Relation, right: mighost.check.Relation, key: string|string[], columns: string[]?, right_conn: mighost.db.Connection?, threshold: integer?, buckets: integer?}
---@return mighost.check.Result|{missing: integer, extra: integer, different: integer, duplicates: integer, missing_keys: string[], extra_keys: string[], different_keys: string[], left_rows: integer, right_rows: integer, rows_fetched: integer, method: "rows"|"buckets"}
function check.reconcile(conn, o) end

return check
