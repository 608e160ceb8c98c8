// pg_catalog reading for backups: name resolution, table DDL, foreign-key order.
#include "backup/catalog.hpp"

#include "backup/files.hpp"

#include <algorithm>
#include <map>

namespace mighost::backup {

namespace {

using pg::param;

std::string str(const pg::result& r, int row, int col) { return std::string(r.value(row, col)); }
bool flag(const pg::result& r, int row, int col) { return r.value(row, col) == "t"; }

[[noreturn]] void fail(const std::string& msg) { throw backup_error(backup_error::kind::failed, msg); }

/// The table's oid (search_path-independent lookup by quoted name).
std::string oid_of(pg::connection& c, const table_id& t)
{
  auto r = c.exec_params("SELECT pg_catalog.to_regclass($1)::oid", {{qualified(c, t)}});
  if (r.rows() != 1 || r.is_null(0, 0)) fail("table " + display(t) + " not found");
  return str(r, 0, 0);
}

void read_columns(pg::connection& c, const std::string& oid, table_def& d, std::string& body)
{
  // The identity sequence's options come along so the column keeps its sequence's name and range.
  auto r = c.exec_params(R"(
    SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.atttypid, a.attnotnull,
           pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
           CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                THEN pg_catalog.quote_ident(cn.nspname) || '.' || pg_catalog.quote_ident(co.collname) END,
           (SELECT format('SEQUENCE NAME %I.%I START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s %s',
                          sn.nspname, s.relname, q.seqstart, q.seqincrement, q.seqmin, q.seqmax, q.seqcache,
                          CASE WHEN q.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END)
              FROM pg_catalog.pg_depend dp JOIN pg_catalog.pg_class s ON s.oid = dp.objid
              JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
              JOIN pg_catalog.pg_sequence q ON q.seqrelid = s.oid
             WHERE dp.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dp.refobjid = a.attrelid
               AND dp.refobjsubid = a.attnum AND dp.deptype = 'i' AND s.relkind = 'S')
      FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
      LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
      LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
     WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum)", {{oid}});
  for (int i = 0; i < r.rows(); ++i) {
    column_def col;
    col.name = str(r, i, 0);
    col.type = str(r, i, 1);
    col.type_oid = static_cast<unsigned>(std::stoul(str(r, i, 2)));
    col.not_null = flag(r, i, 3);
    std::string identity = str(r, i, 5), generated = str(r, i, 6);
    col.generated = !generated.empty();
    col.identity_always = identity == "a";
    std::string line = "    " + c.quote_ident(col.name) + " " + col.type;
    if (!r.is_null(i, 7)) line += " COLLATE " + str(r, i, 7);
    if (col.generated) line += " GENERATED ALWAYS AS (" + str(r, i, 4) + ") STORED";
    else if (!identity.empty())
      line += std::string(" GENERATED ") + (col.identity_always ? "ALWAYS" : "BY DEFAULT") + " AS IDENTITY (" +
              str(r, i, 8) + ")";
    else if (!r.is_null(i, 4)) line += " DEFAULT " + str(r, i, 4);
    if (col.not_null) line += " NOT NULL";
    body += (body.empty() ? "" : ",\n") + line;
    d.columns.push_back(std::move(col));
  }
}

void read_constraints(pg::connection& c, const std::string& oid, table_def& d, std::string& body)
{
  auto r = c.exec_params(R"(
    SELECT k.conname, k.contype, pg_catalog.pg_get_constraintdef(k.oid), k.convalidated, fn.nspname, f.relname
      FROM pg_catalog.pg_constraint k
      LEFT JOIN pg_catalog.pg_class f ON f.oid = k.confrelid
      LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = f.relnamespace
     WHERE k.conrelid = $1::pg_catalog.oid AND k.contype IN ('p', 'u', 'x', 'c', 'f') AND k.conislocal
     ORDER BY CASE k.contype WHEN 'p' THEN 0 WHEN 'u' THEN 1 WHEN 'x' THEN 2 WHEN 'c' THEN 3 ELSE 4 END, k.conname)",
                         {{oid}});
  std::string alter = "ALTER TABLE ONLY " + qualified(c, d.id) + " ADD CONSTRAINT ";
  for (int i = 0; i < r.rows(); ++i) {
    std::string name = c.quote_ident(r.value(i, 0)), type = str(r, i, 1), def = str(r, i, 2);
    if (type == "c" && flag(r, i, 3)) body += ",\n    CONSTRAINT " + name + " " + def;
    else if (type == "f") d.foreign_keys.push_back({alter + name + " " + def, {str(r, i, 4), str(r, i, 5)}});
    else d.after_data.push_back(alter + name + " " + def);  // keys and unvalidated checks: after the data
  }
  // The primary key columns give JSON exports a stable order.
  auto pk = c.exec_params(R"(
    SELECT a.attname FROM pg_catalog.pg_index i
      JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true
      JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
     WHERE i.indrelid = $1::pg_catalog.oid AND i.indisprimary ORDER BY k.n)", {{oid}});
  for (int i = 0; i < pk.rows(); ++i) d.key_columns.push_back(str(pk, i, 0));
}

void read_indexes(pg::connection& c, const std::string& oid, table_def& d)
{
  // Indexes that back a constraint come with the constraint.
  auto r = c.exec_params(R"(
    SELECT pg_catalog.pg_get_indexdef(i.indexrelid) FROM pg_catalog.pg_index i
     WHERE i.indrelid = $1::pg_catalog.oid
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                        WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))
     ORDER BY i.indexrelid)", {{oid}});
  for (int i = 0; i < r.rows(); ++i) d.after_data.push_back(str(r, i, 0));
}

void read_enums(pg::connection& c, const std::string& oid, table_def& d)
{
  auto r = c.exec_params(R"(
    SELECT n.nspname, e.typname, l.enumlabel
      FROM pg_catalog.pg_type e JOIN pg_catalog.pg_namespace n ON n.oid = e.typnamespace
      JOIN pg_catalog.pg_enum l ON l.enumtypid = e.oid
     WHERE e.typtype = 'e' AND e.oid IN (
           SELECT CASE WHEN t.typcategory = 'A' AND t.typelem <> 0 THEN t.typelem ELSE t.oid END
             FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = $1::pg_catalog.oid AND a.attnum > 0 AND NOT a.attisdropped)
     ORDER BY e.oid, l.enumsortorder)", {{oid}});
  for (int i = 0; i < r.rows(); ++i) {
    table_id type{str(r, i, 0), str(r, i, 1)};
    if (d.enums.empty() || !(d.enums.back().type == type)) d.enums.push_back({type, {}});
    d.enums.back().labels.push_back(str(r, i, 2));
  }
}

void read_sequences(pg::connection& c, const std::string& oid, table_def& d)
{
  // Owned (serial) and identity sequences, plus shared ones a default calls by name.
  auto r = c.exec_params(R"(
    SELECT n.nspname, s.relname,
           (SELECT dp.deptype FROM pg_catalog.pg_depend dp
             WHERE dp.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dp.objid = s.oid
               AND dp.refobjid = $1::pg_catalog.oid AND dp.deptype IN ('a', 'i') LIMIT 1),
           (SELECT a.attname FROM pg_catalog.pg_depend dp JOIN pg_catalog.pg_attribute a
                ON a.attrelid = dp.refobjid AND a.attnum = dp.refobjsubid
             WHERE dp.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dp.objid = s.oid
               AND dp.refobjid = $1::pg_catalog.oid AND dp.deptype = 'a' LIMIT 1),
           format('CREATE SEQUENCE IF NOT EXISTS %I.%I AS %s START WITH %s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s %s',
                  n.nspname, s.relname, pg_catalog.format_type(q.seqtypid, NULL), q.seqstart, q.seqincrement,
                  q.seqmin, q.seqmax, q.seqcache, CASE WHEN q.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END)
      FROM pg_catalog.pg_class s JOIN pg_catalog.pg_namespace n ON n.oid = s.relnamespace
      JOIN pg_catalog.pg_sequence q ON q.seqrelid = s.oid
     WHERE s.relkind = 'S' AND (
           s.oid IN (SELECT dp.objid FROM pg_catalog.pg_depend dp
                      WHERE dp.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                        AND dp.refobjid = $1::pg_catalog.oid AND dp.deptype IN ('a', 'i'))
        OR s.oid IN (SELECT dp.refobjid FROM pg_catalog.pg_depend dp
                       JOIN pg_catalog.pg_attrdef ad ON ad.oid = dp.objid
                      WHERE dp.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass
                        AND dp.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                        AND ad.adrelid = $1::pg_catalog.oid))
     ORDER BY s.oid)", {{oid}});
  for (int i = 0; i < r.rows(); ++i) {
    sequence_def s;
    s.seq = {str(r, i, 0), str(r, i, 1)};
    std::string dep = str(r, i, 2);
    if (dep != "i") s.create = str(r, i, 4);
    if (dep == "a")
      d.after_data.push_back("ALTER SEQUENCE " + qualified(c, s.seq) + " OWNED BY " + qualified(c, d.id) + "." +
                             c.quote_ident(r.value(i, 3)));
    auto v = c.exec("SELECT last_value, is_called FROM " + qualified(c, s.seq));
    s.last_value = str(v, 0, 0);
    s.is_called = flag(v, 0, 1);
    d.sequences.push_back(std::move(s));
  }
}

} // namespace

std::string qualified(const pg::connection& c, const table_id& t)
{
  return c.quote_ident(t.schema) + "." + c.quote_ident(t.name);
}

std::string display(const table_id& t) { return t.schema + "." + t.name; }

std::string table_def::copy_column_list(const pg::connection& c) const
{
  std::string out;
  for (const auto& col : columns)
    if (!col.generated) out += (out.empty() ? "" : ", ") + c.quote_ident(col.name);
  return out;
}

std::vector<table_id> resolve_tables(pg::connection& c, const std::vector<std::string>& names)
{
  std::vector<table_id> out;
  for (const auto& name : names) {
    auto r = c.exec_params(R"(
      SELECT n.nspname, c.relname, c.relkind::text
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
       WHERE (c.relname = $1 AND pg_catalog.pg_table_is_visible(c.oid))
          OR (strpos($1, '.') > 0 AND n.nspname = split_part($1, '.', 1)
              AND c.relname = substr($1, strpos($1, '.') + 1))
       ORDER BY (c.relname = $1 AND pg_catalog.pg_table_is_visible(c.oid)) DESC LIMIT 1)", {{name}});
    if (r.rows() == 0) fail("table \"" + name + "\" not found (on the search path, or as schema.table)");
    table_id t{str(r, 0, 0), str(r, 0, 1)};
    std::string kind = str(r, 0, 2);
    if (kind == "p") fail(display(t) + " is a partitioned table: back up its partitions instead");
    if (kind != "r") fail(display(t) + " is not an ordinary table (relkind " + kind + ")");
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(std::move(t));
  }
  return out;
}

std::vector<table_id> schema_tables(pg::connection& c, const std::string& schema)
{
  auto ns = c.exec_params("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", {{schema}});
  if (ns.rows() == 0) fail("schema \"" + schema + "\" not found");
  auto r = c.exec_params(R"(
    SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname)", {{schema}});
  std::vector<table_id> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back({schema, str(r, i, 0)});
  return out;
}

table_def describe_table(pg::connection& c, const table_id& t)
{
  table_def d;
  d.id = t;
  std::string oid = oid_of(c, t);
  auto kind = c.exec_params("SELECT relpersistence FROM pg_catalog.pg_class WHERE oid = $1::pg_catalog.oid", {{oid}});
  std::string body;
  read_columns(c, oid, d, body);
  read_constraints(c, oid, d, body);
  read_indexes(c, oid, d);
  read_enums(c, oid, d);
  read_sequences(c, oid, d);
  bool unlogged = kind.rows() == 1 && kind.value(0, 0) == "u";
  d.create = std::string("CREATE ") + (unlogged ? "UNLOGGED " : "") + "TABLE " + qualified(c, t) + " (\n" + body +
             "\n)";
  return d;
}

bool table_exists(pg::connection& c, const table_id& t)
{
  auto r = c.exec_params("SELECT pg_catalog.to_regclass($1) IS NOT NULL", {{qualified(c, t)}});
  return r.rows() == 1 && r.value(0, 0) == "t";
}

std::vector<std::pair<table_id, table_id>> live_foreign_keys(pg::connection& c, const std::vector<table_id>& tables)
{
  std::vector<std::pair<table_id, table_id>> edges;
  for (const auto& t : tables) {
    if (!table_exists(c, t)) continue;
    auto r = c.exec_params(R"(
      SELECT fn.nspname, f.relname FROM pg_catalog.pg_constraint k
        JOIN pg_catalog.pg_class f ON f.oid = k.confrelid JOIN pg_catalog.pg_namespace fn ON fn.oid = f.relnamespace
       WHERE k.contype = 'f' AND k.conrelid = pg_catalog.to_regclass($1))", {{qualified(c, t)}});
    for (int i = 0; i < r.rows(); ++i) edges.push_back({t, {str(r, i, 0), str(r, i, 1)}});
  }
  return edges;
}

std::vector<table_id> parents_first(const std::vector<table_id>& tables,
                                    const std::vector<std::pair<table_id, table_id>>& edges)
{
  // Depth-first: emit a table after the parents it has among `tables`; a back edge (cycle or
  // self-reference) is ignored, so a cycle keeps the input order.
  std::vector<table_id> out;
  std::vector<int> state(tables.size(), 0);  // 0 new, 1 visiting, 2 done
  auto index_of = [&](const table_id& t) {
    auto it = std::find(tables.begin(), tables.end(), t);
    return it == tables.end() ? -1 : static_cast<int>(it - tables.begin());
  };
  auto visit = [&](auto&& self, int i) -> void {
    if (state[i] != 0) return;
    state[i] = 1;
    for (const auto& [child, parent] : edges) {
      if (!(child == tables[i])) continue;
      int p = index_of(parent);
      if (p >= 0 && p != i) self(self, p);
    }
    state[i] = 2;
    out.push_back(tables[i]);
  };
  for (std::size_t i = 0; i < tables.size(); ++i) visit(visit, static_cast<int>(i));
  return out;
}

} // namespace mighost::backup
