---@meta
-- lua-language-server annotations of mighost.schema (stdlib/mighost/schema.lua). Tables are
-- given as for mighost.check ("t", "s.t", {s, t}); absent values are nil.

---@alias mighost.schema.Table string|{[1]: string, [2]: string}|{schema: string?, table: string}

---@class mighost.schema.Column
---@field name string
---@field type string          format_type text, e.g. "numeric(12,3)"
---@field type_name string
---@field enum boolean
---@field nullable boolean
---@field default string?
---@field generated string?
---@field identity string?
---@field position integer

---@class mighost.schema.Constraint
---@field name string
---@field type "primary key"|"foreign key"|"unique"|"check"|"exclusion"
---@field definition string
---@field validated boolean
---@field columns string[]

---@class mighost.schema.Index
---@field name string
---@field columns string[]
---@field unique boolean
---@field primary boolean
---@field valid boolean
---@field method string
---@field predicate string?
---@field definition string

---@class mighost.schema
local schema = {}

---@param rel mighost.schema.Table
---@return string? schema
---@return string name
function schema.split(rel) end
---The quoted SQL form `"s"."t"`.
---@param rel mighost.schema.Table
---@return string
function schema.qualify(rel) end
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@return integer? oid
function schema.table_oid(conn, rel) end
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@return boolean
function schema.table_exists(conn, rel) end
---@param conn mighost.db.Connection
---@param name string
---@return boolean
function schema.schema_exists(conn, name) end
---@param conn mighost.db.Connection
---@param schema_name string?
---@return {schema: string, name: string, kind: string, rows: integer?, bytes: integer}[]
function schema.tables(conn, schema_name) end
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@return mighost.schema.Column[]?
function schema.columns(conn, rel) end
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@param name string
---@return mighost.schema.Column?
function schema.column(conn, rel, name) end
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@param name string
---@return boolean
function schema.column_exists(conn, rel, name) end
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@param name string
---@return string?
function schema.column_type(conn, rel, name) end
---The first alias that is a column of the table, and its description.
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@param aliases string|string[]
---@return string? name
---@return mighost.schema.Column? column
function schema.find_column(conn, rel, aliases) end
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@return mighost.schema.Constraint[]
function schema.constraints(conn, rel) end
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@return {name: string, columns: string[]}?
function schema.primary_key(conn, rel) end
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@return mighost.schema.Constraint[]
function schema.foreign_keys(conn, rel) end
---Foreign keys of other tables pointing at this one.
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@return mighost.schema.Constraint[]
function schema.referenced_by(conn, rel) end
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@param name string
---@return boolean
function schema.constraint_exists(conn, rel, name) end
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@return mighost.schema.Index[]
function schema.indexes(conn, rel) end
---@param conn mighost.db.Connection
---@param rel string "name" or "schema.name" of an index
---@return boolean
function schema.index_exists(conn, rel) end
---@param conn mighost.db.Connection
---@param schema_name string?
---@return {schema: string, name: string, labels: string[]}[]
function schema.enums(conn, schema_name) end
---@param conn mighost.db.Connection
---@param rel string the type
---@return string[]?
function schema.enum_labels(conn, rel) end
---@param conn mighost.db.Connection
---@param schema_name string?
---@return {schema: string, name: string, data_type: string, increment: integer, last_value: integer?, owner_schema: string?, owner_table: string?, owner_column: string?}[]
function schema.sequences(conn, schema_name) end
---Everything about one table; nil when there is none.
---@param conn mighost.db.Connection
---@param rel mighost.schema.Table
---@return table?
function schema.table(conn, rel) end
---@param conn mighost.db.Connection
---@param opts {schema: string?}?
---@return {tables: table[], enums: table[], sequences: table[]}
function schema.describe(conn, opts) end

return schema
