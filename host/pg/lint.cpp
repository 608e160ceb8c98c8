// Run-time lint of lock-heavy DDL (see lint.hpp). A small SQL tokenizer (comments, strings,
// dollar quotes, quoted identifiers) and a handful of token patterns: no SQL grammar, so a
// statement the patterns do not recognise is simply not warned about.
#include "pg/lint_tokens.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>

namespace mighost::pg::lint {

using namespace detail;

namespace {

std::string human_bytes(long long b)
{
  const char* units[] = {"bytes", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 10240 && u < 4) { b /= 1024; ++u; }
  return std::to_string(b) + " " + units[u];
}

/// The statement for a message: whitespace collapsed, at most ~200 characters.
std::string excerpt(std::string_view sql, const tokens& t)
{
  std::string out;
  for (char c : sql.substr(t.front().begin, t.back().end - t.front().begin)) {
    bool space = std::isspace(static_cast<unsigned char>(c));
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  return out.size() > 200 ? out.substr(0, 197) + "..." : out;
}

/// Types whose change is binary coercible (no rewrite): text and varchar of growing length.
struct text_type
{
  bool known = false;  ///< text or varchar at all
  bool text = false;
  long limit = -1;     ///< -1 = unbounded
};
text_type parse_text_type(std::string s)
{
  s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "text" || s == "pg_catalog.text") return {true, true, -1};
  for (std::string_view p : {"charactervarying", "varchar", "pg_catalog.varchar"}) {
    if (s.rfind(p, 0) != 0) continue;
    std::string rest = s.substr(p.size());
    if (rest.empty()) return {true, false, -1};
    if (rest.front() == '(' && rest.back() == ')') return {true, false, std::atol(rest.c_str() + 1)};
  }
  return {};
}

const std::vector<std::string_view> k_volatile = {
  "random", "clock_timestamp", "timeofday", "gen_random_uuid", "uuid_generate_v1",
  "uuid_generate_v1mc", "uuid_generate_v4", "nextval"};
const std::vector<std::string_view> k_serial = {"serial", "bigserial", "smallserial", "serial2", "serial4", "serial8"};

bool one_of(const std::vector<std::string_view>& list, const std::string& w)
{
  return std::find(list.begin(), list.end(), w) != list.end();
}

class linter
{
public:
  linter(std::string_view sql, const catalog& cat, const thresholds& lim, std::vector<warning>& out)
    : m_sql(sql), m_cat(cat), m_lim(lim), m_out(out) {}

  void statement(const tokens& t)
  {
    m_stmt = excerpt(m_sql, t);
    std::size_t i = 1;
    if (is_word(t, 0, "create")) {
      accept(t, i, {"unique"});
      if (accept(t, i, {"index"})) create_index(t, i);
      else created_here(t, i);
    } else if (accept(t, i = 0, {"alter", "table"})) {
      accept(t, i, {"if", "exists"});
      accept(t, i, {"only"});
      auto table = read_table(t, i);
      if (!table || internal(*table)) return;
      for (const tokens& action : split(t, i, ',')) alter_action(*table, action);
    }
  }

private:
  /// Temporary tables (a session's own: they block no one), and the caller's own schemas.
  bool internal(const table_ref& t) const
  {
    return t.schema == "pg_temp" || t.schema.rfind("pg_temp_", 0) == 0 ||
           (m_cat.owned_schema && m_cat.owned_schema(t.schema));
  }

  /// Is the table big enough to matter? `why` receives "~N rows, M MB" for the message.
  bool large(const table_ref& t, std::string& why) { return over_limits(t, why, false); }

  /// Like large(), but a table the migration created counts too: nobody waits on its own locks,
  /// but a scan of its rows can still hold a lock on another table.
  bool filled(const table_ref& t, std::string& why) { return over_limits(t, why, true); }

  /// Created by the running migration (known only through the size lookup).
  bool created(const table_ref& t)
  {
    const std::optional<table_size>& s = size_of(t);
    return s && s->created;
  }

  /// CREATE [UNLOGGED] TABLE [IF NOT EXISTS] name: the text's later statements meet it new and
  /// empty, whatever the catalog says now of a table by that name (the text is linted before it
  /// runs, e.g. in a scratch schema that hides an existing table of the same name).
  void created_here(const tokens& t, std::size_t i)
  {
    accept(t, i, {"unlogged"});
    if (!accept(t, i, {"table"})) return;
    accept(t, i, {"if", "not", "exists"});
    auto table = read_table(t, i);
    if (!table) return;
    table_size s{0, 0};
    s.created = true;
    m_sizes[table->schema + '\0' + table->name] = s;   // replaces what the catalog said
  }

  const std::optional<table_size>& size_of(const table_ref& t)
  {
    static const std::optional<table_size> unknown;
    std::string key = t.schema + '\0' + t.name;
    auto it = m_sizes.find(key);
    if (it == m_sizes.end() && !m_cat.size) return unknown;
    if (it == m_sizes.end()) it = m_sizes.emplace(key, m_cat.size(t)).first;
    return it->second;
  }

  bool over_limits(const table_ref& t, std::string& why, bool even_created)
  {
    const std::optional<table_size>& found = size_of(t);
    if (!found && !m_cat.size) { why = "size unknown"; return true; }
    if (!found || (found->created && !even_created)) return false;
    const table_size& s = *found;
    why = (s.rows >= 0 ? "~" + std::to_string(static_cast<long long>(s.rows)) + " rows, " : "") + human_bytes(s.bytes);
    return (s.rows >= 0 && s.rows > m_lim.rows) || s.bytes > m_lim.bytes;
  }

  void add(const char* rule, const table_ref& t, std::string message, std::string safer)
  {
    m_out.push_back({rule, t.text(), m_stmt, std::move(message), std::move(safer)});
  }

  void create_index(const tokens& t, std::size_t i)
  {
    if (accept(t, i, {"concurrently"})) return;
    while (i < t.size() && !is_word(t, i, "on")) ++i;  // [IF NOT EXISTS] [name]
    ++i;
    accept(t, i, {"only"});
    auto table = read_table(t, i);
    std::string why;
    if (!table || internal(*table) || !large(*table, why)) return;
    add("create_index", *table,
        "CREATE INDEX on " + table->text() + " (" + why + ") blocks every write to the table until the index is built",
        "CREATE INDEX CONCURRENTLY (outside a transaction block)");
  }

  void alter_action(const table_ref& table, const tokens& a)
  {
    std::size_t i = 0;
    std::string why;
    if (accept(a, i, {"add"})) {
      std::string cname;
      if (accept(a, i, {"constraint"}) && is_name(a, i)) cname = a[i++].text + " ";
      if (is_word(a, i, "check") || accept(a, i, {"foreign", "key"}) || is_word(a, i, "foreign")) {
        if (contains_seq(a, {"not", "valid"})) return;
        if (!large(table, why)) return foreign_key_of_new_table(table, a);
        add("add_constraint", table,
            "ADD CONSTRAINT " + cname + "on " + table.text() + " (" + why +
              ") checks every row while holding a lock that blocks writes",
            "ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in its own transaction");
      } else if (is_word(a, i, "unique") || is_word(a, i, "primary")) {
        if (contains_seq(a, {"using", "index"}) || !large(table, why)) return;
        add("add_unique", table,
            "ADD " + std::string(is_word(a, i, "unique") ? "UNIQUE" : "PRIMARY KEY") + " on " + table.text() + " (" +
              why + ") builds its index under an ACCESS EXCLUSIVE lock",
            "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX");
      } else if (!is_word(a, i, "exclude")) {
        accept(a, i, {"column"});
        accept(a, i, {"if", "not", "exists"});
        add_column(table, a, i);
      }
    } else if (accept(a, i, {"alter"})) {
      accept(a, i, {"column"});
      if (!is_name(a, i)) return;
      std::string col = a[i++].text;
      if (accept(a, i, {"set", "not", "null"})) set_not_null(table, col);
      else if (accept(a, i, {"type"}) || accept(a, i, {"set", "data", "type"})) column_type(table, col, a, i);
    }
  }

  /// A foreign key added to a table this migration created and filled: its check of every row
  /// holds SHARE ROW EXCLUSIVE on the referenced table, which the application may be writing.
  void foreign_key_of_new_table(const table_ref& table, const tokens& a)
  {
    std::size_t i = 0;
    while (i < a.size() && !is_word(a, i, "references")) ++i;
    if (++i >= a.size()) return;
    auto ref = read_table(a, i);
    std::string why;
    if (!ref || internal(*ref) || created(*ref) || !size_of(*ref) || !filled(table, why)) return;
    add("add_foreign_key", *ref,
        "ADD FOREIGN KEY on " + table.text() + " (" + why + ") blocks every write to " + ref->text() +
          " until all its rows are checked",
        "ADD CONSTRAINT ... NOT VALID, then ALTER TABLE ... VALIDATE CONSTRAINT in its own transaction");
  }

  void add_column(const table_ref& table, const tokens& a, std::size_t i)
  {
    if (!is_name(a, i)) return;
    std::string col = a[i++].text;
    std::string why, what;
    if (is_name(a, i) && one_of(k_serial, a[i].text)) what = "a " + a[i].text + " column (nextval() per row)";
    for (std::size_t j = i; j < a.size() && what.empty(); ++j) {
      if (is_word(a, j, "generated") && (contains_seq(a, {"stored"}) || contains_seq(a, {"identity"})))
        what = "a GENERATED column";
      else if (is_word(a, j, "default")) {
        for (std::size_t k = j + 1; k + 1 < a.size() && what.empty(); ++k)
          if (a[k].kind == token::word && is_punct(a, k + 1, '(') && one_of(k_volatile, a[k].text))
            what = "the volatile default " + a[k].text + "()";
      }
    }
    if (what.empty() || !large(table, why)) return;
    add("volatile_default", table,
        "ADD COLUMN " + quote_if_needed(col) + " with " + what + " rewrites " + table.text() + " (" + why +
          ") under an ACCESS EXCLUSIVE lock",
        "ADD COLUMN without it (or with a constant default), backfill in batches, then SET DEFAULT");
  }

  void set_not_null(const table_ref& table, const std::string& col)
  {
    std::string why;
    if ((m_cat.not_null_proven && m_cat.not_null_proven(table, col)) || !large(table, why)) return;
    add("set_not_null", table,
        "SET NOT NULL on " + table.text() + "." + quote_if_needed(col) + " (" + why +
          ") scans the table under an ACCESS EXCLUSIVE lock",
        "ADD CONSTRAINT ... CHECK (" + quote_if_needed(col) +
          " IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT ...; then SET NOT NULL (no scan) and drop the check");
  }

  void column_type(const table_ref& table, const std::string& col, const tokens& a, std::size_t i)
  {
    std::size_t end = i;
    while (end < a.size() && !is_word(a, end, "using") && !is_word(a, end, "collate")) ++end;
    if (end > i && end == a.size() && m_cat.column_type) {  // no USING: maybe binary coercible
      auto old_type = m_cat.column_type(table, col);
      text_type from = old_type ? parse_text_type(*old_type) : text_type{};
      text_type to = parse_text_type(std::string(m_sql.substr(a[i].begin, a[end - 1].end - a[i].begin)));
      if (from.known && to.known && (to.limit < 0 || (!from.text && from.limit >= 0 && to.limit >= from.limit)))
        return;
    }
    std::string why;
    if (!large(table, why)) return;
    add("column_type", table,
        "ALTER COLUMN " + quote_if_needed(col) + " TYPE rewrites " + table.text() + " (" + why +
          ") and its indexes under an ACCESS EXCLUSIVE lock",
        "add a new column, backfill it in batches, then switch readers and drop the old column");
  }

  std::string_view m_sql;
  const catalog& m_cat;
  const thresholds& m_lim;
  std::vector<warning>& m_out;
  std::string m_stmt;
  std::map<std::string, std::optional<table_size>> m_sizes;
};

} // namespace

std::string warning::text() const { return message + "; safer: " + safer + ". Statement: " + statement; }

std::vector<warning> lint(std::string_view sql, const catalog& cat, const thresholds& limits)
{
  std::vector<warning> out;
  linter l(sql, cat, limits, out);
  for (const tokens& stmt : split(tokenize(sql), 0, ';')) l.statement(stmt);
  return out;
}

} // namespace mighost::pg::lint
