-- mighost.schema from Lua on a real server: the catalog as tables, search_path, aliases, names
-- that try to be SQL. Each case runs on a fresh database (tests/support/lua_harness.cpp).
local db, schema = require "mighost.db", require "mighost.schema"
local eq = require("expect").eq
local fixture = require "schema_fixture"

return {
  {"tables, columns, keys, indexes, enums and sequences from pg_catalog", function(conn)
    fixture(conn)
    local names = {}
    for _, t in ipairs(schema.tables(conn)) do names[#names + 1] = t.schema .. "." .. t.name .. ":" .. t.kind end
    eq(table.concat(names, ","), "legacy.bag:table,public.bag:table,public.user:table", "tables")
    eq(#schema.tables(conn, "legacy"), 1, "tables of one schema")

    local cols = schema.columns(conn, "bag")
    eq(#cols, 6, "column count")
    eq(cols[1].name, "id", "first column")
    eq(cols[1].type, "bigint", "id type")
    eq(cols[1].identity, "by default", "identity")
    eq(cols[1].nullable, false, "id nullable")
    eq(cols[2].type, "character varying(255)", "qr_id type")
    eq(cols[3].type, "bag_status", "enum column type")
    eq(cols[3].enum, true, "enum flag")
    eq(cols[3].default, "'pending'::bag_status", "enum default")
    eq(cols[4].type, "numeric(12,3)", "numeric type")
    eq(cols[4].nullable, true, "weight nullable")
    eq(cols[5].default, nil, "no default is nil, not db.NULL")
    eq(cols[6].generated, "(weight / (2)::numeric)", "generated expression")
    eq(cols[6].default, nil, "a generated column has no default")
    eq(schema.column_type(conn, "bag", "weight"), "numeric(12,3)", "column_type")
    eq(schema.column_type(conn, "bag", "nope"), nil, "column_type of a missing column")
    eq(schema.column_type(conn, "legacy.bag", "qr_code"), "text", "qualified string")
    eq(schema.column_type(conn, {"legacy", "bag"}, "id"), "integer", "{schema, table} pair")
    eq(schema.column_exists(conn, {schema = "public", table = "user"}, "username"), true, "named pair")

    local pk = schema.primary_key(conn, "bag")
    eq(pk.name, "bag_pkey", "pk name")
    eq(table.concat(pk.columns, ","), "id", "pk columns")
    local fks = schema.foreign_keys(conn, "bag")
    eq(#fks, 1, "fk count")
    eq(fks[1].ref_schema .. "." .. fks[1].ref_table .. "(" .. fks[1].ref_columns[1] .. ")", "public.user(id)", "fk target")
    eq(fks[1].columns[1], "user_id", "fk column")
    eq(fks[1].on_delete, "set null", "on delete")
    eq(fks[1].on_update, "no action", "on update")
    local refs = schema.referenced_by(conn, "user")
    eq(#refs, 1, "referenced_by")
    eq(refs[1].src_table, "bag", "referencing table")
    eq(schema.constraint_exists(conn, "bag", "bag_weight_check"), true, "check exists")
    eq(schema.constraint_exists(conn, "bag", "bag_nope"), false, "missing constraint")

    local idx = {}
    for _, i in ipairs(schema.indexes(conn, "bag")) do idx[i.name] = i end
    eq(idx.bag_pkey.primary, true, "pk index")
    eq(idx.bag_qr_key.unique, true, "unique index")
    eq(idx.bag_lower_qr.columns[1], "lower(qr_id::text)", "expression index column")
    eq(idx.bag_lower_qr.predicate, "(status <> 'billed'::bag_status)", "partial index predicate")
    eq(table.concat(idx.bag_user_status.columns, ","), "user_id,status", "multi-column index")
    eq(idx.bag_user_status.unique, false, "plain index")
    eq(idx.bag_user_status.method, "btree", "access method")
    eq(schema.index_exists(conn, "bag_user_status"), true, "index_exists")
    eq(schema.index_exists(conn, "legacy.bag_user_status"), false, "index_exists in another schema")

    local enums = schema.enums(conn)
    eq(#enums, 1, "enum count")
    eq(table.concat(enums[1].labels, ","), "pending,scanned,billed", "enum labels in sort order")
    eq(table.concat(schema.enum_labels(conn, "bag_status"), ","), "pending,scanned,billed", "enum_labels")
    eq(schema.enum_labels(conn, "legacy.bag_status"), nil, "enum_labels elsewhere")

    local seqs = {}
    for _, s in ipairs(schema.sequences(conn)) do seqs[s.schema .. "." .. s.name] = s end
    eq(seqs["legacy.ticket_seq"].last_value, 500, "sequence last value")
    eq(seqs["legacy.ticket_seq"].owner_table, nil, "free-standing sequence")
    eq(seqs["public.user_id_seq"].owner_table .. "." .. seqs["public.user_id_seq"].owner_column, "user.id", "serial owner")
    eq(seqs["public.user_id_seq"].last_value, nil, "unused sequence")
    eq(seqs["public.bag_id_seq"].owner_column, "id", "identity sequence owner")

    eq(schema.table_exists(conn, "bag"), true, "table_exists")
    eq(schema.table_exists(conn, "legacy.nope"), false, "missing table")
    eq(schema.table_exists(conn, "nope.bag"), false, "missing schema")
    eq(schema.schema_exists(conn, "legacy"), true, "schema_exists")
    eq(schema.columns(conn, "nope"), nil, "columns of a missing table")

    local t = schema.table(conn, "bag")
    eq(t.schema .. "." .. t.name, "public.bag", "table()")
    eq(#t.columns, 6, "table().columns")
    eq(#t.checks, 1, "table().checks")
    eq(#t.unique, 1, "table().unique")
    eq(#t.indexes, 4, "table().indexes")
    local d = schema.describe(conn, {schema = "public"})
    eq(#d.tables, 2, "describe tables")
    eq(#d.enums, 1, "describe enums")
  end},

  {"search_path decides which unqualified table is meant", function(conn)
    fixture(conn)
    eq(schema.column_type(conn, "bag", "qr_id"), "character varying(255)", "public first")
    conn:exec("SET search_path = legacy, public")
    eq(schema.column_type(conn, "bag", "qr_id"), nil, "legacy.bag hides public.bag")
    eq(schema.column_type(conn, "bag", "qr_code"), "text", "legacy.bag")
    eq(schema.table_exists(conn, "user"), true, "public still visible")
  end},

  {"find_column returns the first alias present (seed 004's field mapping)", function(conn)
    conn:exec([[
      CREATE TABLE bag_a (id int, qr_id text, qr_code text);
      CREATE TABLE bag_b (id int, qr_code text);
      CREATE TABLE bag_c (id int, name text);
      CREATE TABLE bag_d (bag_name text);
      CREATE TABLE "user" (id int, "Name" text, name text);
      CREATE SCHEMA src; CREATE TABLE src.bag (qr_code text)]])
    local aliases = {"qr_id", "qr_code", "id"}
    eq(schema.find_column(conn, "bag_a", aliases), "qr_id", "qr_id wins over qr_code")
    eq(schema.find_column(conn, "bag_b", aliases), "qr_code", "qr_code")
    eq(schema.find_column(conn, "bag_c", aliases), "id", "id as the last resort")
    eq(schema.find_column(conn, "bag_d", aliases), nil, "no alias present")
    eq(schema.find_column(conn, "no_such_table", aliases), nil, "missing table")
    eq(schema.find_column(conn, "src.bag", aliases), "qr_code", "qualified")
    eq(schema.find_column(conn, {"src", "bag"}, {"qr_id"}), nil, "qualified, absent")
    local name, col = schema.find_column(conn, "user", {"username", "name"})
    eq(name, "name", "exact names: Name is not name")
    eq(col.type, "text", "the column description comes second")
    eq(schema.find_column(conn, "user", "Name"), "Name", "a single alias as a string")
  end},

  {"names are data, never SQL", function(conn)
    local weird = 'x"; DROP TABLE y; --'
    conn:exec("CREATE TABLE y (a int); CREATE SCHEMA " .. db.quote_ident("s'q") .. "; CREATE TABLE " ..
              db.quote_ident("s'q") .. "." .. db.quote_ident(weird) .. " (" .. db.quote_ident("c'ol\"") .. " int)")
    eq(schema.table_exists(conn, weird), false, "not on search_path")
    eq(schema.table_exists(conn, {"s'q", weird}), true, "pair with quotes in both parts")
    eq(schema.find_column(conn, {"s'q", weird}, {"nope", "c'ol\""}), "c'ol\"", "weird column")
    eq(schema.qualify({"s'q", weird}), '"s\'q"."x""; DROP TABLE y; --"', "qualify")
    eq(schema.table_exists(conn, "y"), true, "y survives")
    local ok, err = pcall(schema.table_exists, conn, 42)
    eq(ok, false, "a number is not a table")
    eq(tostring(err):find("expected a table", 1, true) ~= nil, true, "the error says what is expected: " .. tostring(err))
  end},
}
